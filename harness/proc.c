/*
 * proc.c - external programs through posix_spawnp (see proc.h).
 *
 * Waiting polls waitpid(WNOHANG) with a sleep that grows from 1 ms to
 * 50 ms: no SIGCHLD handler, so nothing else in the process is disturbed,
 * and a build of minutes costs a few thousand wakeups.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap(long ns)
{
    struct timespec t = { 0, ns };

    nanosleep(&t, NULL);
}

static int env_key_equal(const char *a, const char *b)
{
    size_t n = strcspn(a, "="), m = strcspn(b, "=");

    return n == m && !strncmp(a, b, n);
}

/* environ with o->env applied; the array is the caller's, the strings are
 * borrowed. */
static char **make_env(const char *const *set)
{
    size_t n = 0, m = 0, i, j, k = 0;
    char **env;

    while (environ[n])
        n++;
    while (set && set[m])
        m++;
    env = xcalloc(n + m + 1, sizeof(*env));
    for (i = 0; i < n; i++) {
        for (j = 0; j < m; j++)
            if (env_key_equal(environ[i], set[j]))
                break;
        if (j == m)
            env[k++] = environ[i];
    }
    for (j = 0; j < m; j++)
        if (strchr(set[j], '='))
            env[k++] = (char *)set[j];
    env[k] = NULL;
    return env;
}

/* Wait for pid, enforcing the deadline; fills r. */
static int wait_child(pid_t pid, double start, double timeout,
                      struct proc_result *r, struct err *err)
{
    double deadline = timeout > 0 ? start + timeout : 0, killed_at = 0;
    long sleep_ns = 1000000;
    int status;

    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return err_set(err, ERR_IO, "cannot wait for process %ld: %s",
                           (long)pid, strerror(errno));
        if (deadline && !r->timed_out && now() >= deadline) {
            r->timed_out = 1;
            killed_at = now();
            kill(-pid, SIGTERM);
        } else if (killed_at && now() - killed_at >= 5.0) {
            kill(-pid, SIGKILL);
            killed_at = 0;
        }
        nap(sleep_ns);
        if (sleep_ns < 50000000)
            sleep_ns *= 2;
    }
    r->seconds = now() - start;
    if (WIFEXITED(status))
        r->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->signal = WTERMSIG(status);
    return 0;
}

int proc_run(const char *const argv[], const struct proc_options *o,
             struct proc_result *out, struct err *err)
{
    static const struct proc_options none = { NULL, NULL, NULL, 0, 0 };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **env = NULL;
    pid_t pid;
    int fd = -1, rc;
    double start;

    if (!o)
        o = &none;
    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    fd = open(o->out_path ? o->out_path : "/dev/null",
              O_WRONLY | O_CREAT | O_CLOEXEC | (o->append ? O_APPEND : O_TRUNC),
              0644);
    if (fd < 0)
        return err_set(err, ERR_IO, "cannot open '%s': %s",
                       o->out_path ? o->out_path : "/dev/null",
                       strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    if (o->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    env = make_env(o->env);
    start = now();
    rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(env);
    close(fd);
    if (rc != 0)
        return err_set(err, rc == ENOENT ? ERR_NOTFOUND : ERR_IO,
                       "cannot run '%s': %s", argv[0], strerror(rc));
    return wait_child(pid, start, o->timeout, out, err);
}

int proc_capture(const char *const argv[], const struct proc_options *o,
                 struct buf *text, struct proc_result *out, struct err *err)
{
    struct proc_options copy;
    char path[] = "/tmp/harness-proc-XXXXXX";
    char chunk[8192];
    size_t n, kept = 0;
    FILE *f;
    int fd, rc;

    memset(&copy, 0, sizeof(copy));
    if (o)
        copy = *o;
    fd = mkstemp(path);
    if (fd < 0)
        return err_set(err, ERR_IO, "cannot create a temporary file: %s",
                       strerror(errno));
    close(fd);
    copy.out_path = path;
    copy.append = 0;
    rc = proc_run(argv, &copy, out, err);
    if (rc == 0 && (f = fopen(path, "rb"))) {
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
               kept < (1u << 20)) {
            buf_add(text, chunk, n);
            kept += n;
        }
        fclose(f);
    }
    unlink(path);
    return rc;
}

int proc_ok(const struct proc_result *r)
{
    return r->exit_code == 0 && !r->signal && !r->timed_out;
}
