/* The recording format's byte layout (docs/recording-format.md), written in
 * this host's byte order. */
#include "engine.h"
#include "arch.h"

#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct rec_hdr {
	uint16_t type, flags;
	uint32_t len;
};

struct rec_ioctl {
	struct rec_hdr h;
	uint32_t pid, tid;
	uint64_t t_entry, t_exit, fd, request, arg;
	int64_t ret;
	uint32_t want_len, in_len, out_len, in_fault, out_fault;
	uint16_t path_len;
	uint8_t rule_kind, reserved;
};
_Static_assert(sizeof(struct rec_ioctl) == 88, "IOCTL fixed part is 88 bytes");

struct rec_process {
	struct rec_hdr h;
	uint32_t pid, tid;
	uint64_t ts;
	int32_t value;
	uint32_t other;
	uint16_t text_len;
	uint8_t reserved[6];
};
_Static_assert(sizeof(struct rec_process) == 40, "PROCESS fixed part is 40 bytes");

struct rec_end {
	struct rec_hdr h;
	int32_t status;
	uint32_t dropped;
	uint64_t events;
	uint16_t text_len;
	uint8_t reserved[6];
};
_Static_assert(sizeof(struct rec_end) == 32, "END fixed part is 32 bytes");

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t tlv(uint8_t *p, uint16_t tag, const char *v, size_t len)
{
	if (len > 0xffff)
		len = 0xffff;
	memcpy(p, &tag, 2);
	uint16_t l = (uint16_t)len;
	memcpy(p + 2, &l, 2);
	if (len)
		memcpy(p + 4, v, len);
	return 4 + ((len + 3) & ~(size_t)3);
}

void rec_header(struct outbuf *ob, uint64_t rt, uint64_t mono, const char *argv, size_t argv_len,
		const char *pids, const char *scope, const char *producer)
{
	pthread_mutex_lock(&ob->mu);
	if (ob->sealed)
		goto out;
	struct utsname u;
	char host[256] = "";
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	gethostname(host, sizeof(host) - 1);
	if (argv_len > 0 && argv[argv_len - 1] == '\0')
		argv_len--; /* joined with NULs, no trailing one */
	/* keep the whole header within its u16 length */
	if (argv_len > 0x8000)
		argv_len = 0x8000;
	size_t pl = strlen(pids) > 0x4000 ? 0x4000 : strlen(pids);
	size_t len = 40 + 4 * 7 + strlen(u.machine) + strlen(u.release) + strlen(host) + argv_len +
		     pl + strlen(producer) + 6 * 3 + (scope[0] ? 4 + strlen(scope) + 3 : 0);
	len = pad8(len);
	uint8_t *p = ob_reserve(ob, len);
	if (!p)
		goto out;
	memcpy(p, "VFTRACE1", 8);
	uint32_t bom = 0x0A0B0C0D;
	memcpy(p + 8, &bom, 4);
	uint16_t version = 1, hl = (uint16_t)len;
	memcpy(p + 12, &version, 2);
	memcpy(p + 14, &hl, 2);
	p[16] = (uint8_t)VFT_WORD_SIZE;
	uint32_t arch = VFT_AUDIT_ARCH;
	memcpy(p + 20, &arch, 4);
	memcpy(p + 24, &rt, 8);
	memcpy(p + 32, &mono, 8);
	size_t o = 40;
	o += tlv(p + o, 1, u.machine, strlen(u.machine));
	o += tlv(p + o, 2, u.release, strlen(u.release));
	o += tlv(p + o, 3, host, strlen(host));
	o += tlv(p + o, 4, argv, argv_len);
	o += tlv(p + o, 5, pids, pl);
	o += tlv(p + o, 6, producer, strlen(producer));
	if (scope[0])
		o += tlv(p + o, 7, scope, strlen(scope));
	(void)o;
	/* tag 0 terminator and padding are the zeroed rest */
out:
	pthread_mutex_unlock(&ob->mu);
}

void rec_ioctl(struct outbuf *ob, pid_t pid, pid_t tid, const struct call *c)
{
	pthread_mutex_lock(&ob->mu);
	if (ob->sealed)
		goto out;
	size_t len = pad8(sizeof(struct rec_ioctl) + c->path_len + c->in_len + c->out_len);
	uint8_t *p = ob_reserve(ob, len);
	if (!p)
		goto out;
	struct rec_ioctl r = {
		.h = {REC_IOCTL, (uint16_t)c->flags, (uint32_t)len},
		.pid = (uint32_t)pid,
		.tid = (uint32_t)tid,
		.t_entry = c->t_entry,
		.t_exit = c->t_exit,
		.fd = c->fd,
		.request = c->request,
		.arg = c->arg,
		.ret = c->ret,
		.want_len = c->want_len,
		.in_len = c->in_len,
		.out_len = c->out_len,
		.in_fault = c->in_fault,
		.out_fault = c->out_fault,
		.path_len = c->path_len,
		.rule_kind = c->kind,
	};
	memcpy(p, &r, sizeof(r));
	size_t o = sizeof(r);
	memcpy(p + o, c->path, c->path_len);
	o += c->path_len;
	if (c->in_len)
		memcpy(p + o, c->in, c->in_len);
	o += c->in_len;
	if (c->out_len)
		memcpy(p + o, c->out, c->out_len);
out:
	pthread_mutex_unlock(&ob->mu);
}

void rec_process(struct outbuf *ob, int kind, pid_t pid, pid_t tid, int32_t value, uint32_t other,
		 const char *text)
{
	pthread_mutex_lock(&ob->mu);
	if (ob->sealed)
		goto out;
	size_t tl = text ? strlen(text) : 0;
	if (tl > 4096)
		tl = 4096;
	size_t len = pad8(sizeof(struct rec_process) + tl);
	uint8_t *p = ob_reserve(ob, len);
	if (!p)
		goto out;
	struct rec_process r = {
		.h = {REC_PROCESS, (uint16_t)kind, (uint32_t)len},
		.pid = (uint32_t)pid,
		.tid = (uint32_t)tid,
		.ts = now_ns(CLOCK_MONOTONIC),
		.value = value,
		.other = other,
		.text_len = (uint16_t)tl,
	};
	memcpy(p, &r, sizeof(r));
	if (tl)
		memcpy(p + sizeof(r), text, tl);
out:
	pthread_mutex_unlock(&ob->mu);
}

void rec_end(struct outbuf *ob, int reason, int32_t status, uint32_t dropped, uint64_t events, const char *text)
{
	pthread_mutex_lock(&ob->mu);
	if (ob->sealed)
		goto out;
	size_t tl = text ? strlen(text) : 0;
	size_t len = pad8(sizeof(struct rec_end) + tl);
	uint8_t *p = ob_reserve(ob, len);
	if (!p)
		goto out;
	struct rec_end r = {
		.h = {REC_END, (uint16_t)reason, (uint32_t)len},
		.status = status,
		.dropped = dropped,
		.events = events,
		.text_len = (uint16_t)tl,
	};
	memcpy(p, &r, sizeof(r));
	if (tl)
		memcpy(p + sizeof(r), text, tl);
	ob->sealed = 1;
out:
	pthread_mutex_unlock(&ob->mu);
}
