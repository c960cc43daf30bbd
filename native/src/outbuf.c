/* Record batching. Writes block when the reader is slow: the tracee then
 * stays stopped, which is the back-pressure that keeps the stream lossless. */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ob_init(struct outbuf *ob, int fd, size_t cap)
{
	memset(ob, 0, sizeof(*ob));
	ob->fd = fd;
	ob->cap = cap;
	ob->data = malloc(cap);
	/* recursive: the listener side holds it across an answer and its record */
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&ob->mu, &a);
	pthread_mutexattr_destroy(&a);
	return ob->data ? 0 : -ENOMEM;
}

void ob_free(struct outbuf *ob)
{
	free(ob->data);
	ob->data = NULL;
	pthread_mutex_destroy(&ob->mu);
}

static int flush_locked(struct outbuf *ob)
{
	size_t off = 0;
	while (off < ob->len && !ob->broken) {
		ssize_t n = write(ob->fd, ob->data + off, ob->len - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			/* A detach request woke us: say so, then keep writing
			 * (the reader is free again once vft_detach returns). */
			if (ob->wake && atomic_load(ob->wake) && ob->ack)
				atomic_store(ob->ack, 1);
		} else {
			ob->broken = 1;
		}
	}
	ob->len = 0;
	return ob->broken ? -EPIPE : 0;
}

int ob_flush(struct outbuf *ob)
{
	pthread_mutex_lock(&ob->mu);
	int rc = flush_locked(ob);
	pthread_mutex_unlock(&ob->mu);
	return rc;
}

uint8_t *ob_reserve(struct outbuf *ob, size_t n)
{
	if (ob->len + n > ob->cap) {
		flush_locked(ob);
		if (n > ob->cap) {
			uint8_t *p = realloc(ob->data, n);
			if (!p)
				return NULL;
			ob->data = p;
			ob->cap = n;
		}
	}
	uint8_t *p = ob->data + ob->len;
	memset(p, 0, n);
	ob->len += n;
	return p;
}
