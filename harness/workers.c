/*
 * workers.c - rounds of independent tasks on a few threads (workers.h).
 *
 * One mutex guards the round: the next task to take and how many have
 * finished.  Tasks are coarse (a strategy's builds of several commits),
 * so taking one under the lock costs nothing next to running it.
 */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct workers {
    pthread_t *threads;
    size_t nthreads; /* started: n - 1 */
    pthread_mutex_t mu;
    pthread_cond_t work; /* a round was posted, or stop */
    pthread_cond_t done; /* the round's last task finished */
    workers_fn *fn;
    void *arg;
    size_t ntasks, next, finished;
    int stop;
};

/* Take and run tasks of the current round until none is left to take.
 * Called and returns with w->mu held. */
static void run_tasks(struct workers *w)
{
    while (w->next < w->ntasks) {
        size_t i = w->next++;
        workers_fn *fn = w->fn;
        void *arg = w->arg;

        pthread_mutex_unlock(&w->mu);
        fn(arg, i);
        pthread_mutex_lock(&w->mu);
        if (++w->finished == w->ntasks)
            pthread_cond_signal(&w->done);
    }
}

static void *worker_main(void *arg)
{
    struct workers *w = arg;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (w->next < w->ntasks)
            run_tasks(w);
        else
            pthread_cond_wait(&w->work, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int workers_start(struct workers **out, size_t n, struct err *err)
{
    struct workers *w = xcalloc(1, sizeof(*w));
    size_t i;
    int rc;

    *out = NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    w->threads = xcalloc(n + 1, sizeof(*w->threads));
    for (i = 0; i + 1 < n; i++) {
        if ((rc = pthread_create(&w->threads[i], NULL, worker_main, w))) {
            workers_stop(w);
            return err_set(err, ERR_IO, "cannot start a simulation thread: %s",
                           strerror(rc));
        }
        w->nthreads++;
    }
    *out = w;
    return 0;
}

size_t workers_count(const struct workers *w)
{
    return w->nthreads + 1;
}

void workers_post(struct workers *w, workers_fn *fn, void *arg, size_t ntasks)
{
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->arg = arg;
    w->ntasks = ntasks;
    w->next = w->finished = 0;
    if (w->nthreads)
        pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
}

void workers_wait(struct workers *w)
{
    pthread_mutex_lock(&w->mu);
    run_tasks(w);
    while (w->finished < w->ntasks)
        pthread_cond_wait(&w->done, &w->mu);
    w->ntasks = w->next = w->finished = 0;
    pthread_mutex_unlock(&w->mu);
}

void workers_stop(struct workers *w)
{
    size_t i;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
}
