/* --selftest-synthetic: the recording path without ptrace. Under qemu-user
 * (how the ppc64 and ppc64le builds are tested on other hosts) ptrace does
 * not work, but the header, the record layout in the host's byte order and
 * the compiled-in rule table can still be checked: this writes one IOCTL
 * record per capture-rule kind, using the table's own request numbers,
 * through the same record.c functions a live session uses. */
#include "recorder.h"
#include "rules.h"
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SELFTEST_PID 4242
#define ENOTTY_RET (-25) /* what a regular file answers, as in the sandbox */

static const struct vft_rule *first_of_kind(uint32_t kind)
{
	for (unsigned i = 0; i < vfr_nrules; i++)
		if (vfr_rules[i].kind == kind)
			return &vfr_rules[i];
	return NULL;
}

int vfr_selftest(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "vfiotrace-record: cannot write %s: %s\n", path, strerror(errno));
		return 2;
	}
	struct outbuf ob;
	if (ob_init(&ob, fd, 64 * 1024) != 0) {
		fprintf(stderr, "vfiotrace-record: out of memory\n");
		close(fd);
		return 2;
	}
	static const char argv[] = "vfiotrace-record\0--selftest-synthetic";
	rec_header(&ob, now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC), argv, sizeof(argv), "", "", vfr_producer);
	rec_process(&ob, PK_START, SELFTEST_PID, SELFTEST_PID, 0, (uint32_t)getpid(), "selftest");
	uint64_t t0 = now_ns(CLOCK_MONOTONIC); /* calls come after START */

	/* one call per kind, in the order a VFIO client might issue them */
	static const uint32_t kinds[] = {VFT_RULE_NONE, VFT_RULE_INTEGER, VFT_RULE_FIXED, VFT_RULE_SIZED,
					 VFT_RULE_CSTRING};
	static const char name[] = "0000:00:00.0";
	uint8_t in[256], outb[256];
	uint64_t events = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct vft_rule *r = first_of_kind(kinds[k]);
		if (!r)
			continue;
		struct call c;
		memset(&c, 0, sizeof(c));
		memset(in, 0, sizeof(in));
		c.t_entry = t0 + 1000 * (events + 1);
		c.t_exit = c.t_entry + 500;
		c.fd = 3;
		c.request = r->request;
		c.ret = ENOTTY_RET;
		c.kind = (uint8_t)r->kind;
		c.in_fault = c.out_fault = 0xffffffffu;
		c.in = in;
		c.out = outb;
		c.path_len = (uint16_t)snprintf(c.path, sizeof(c.path), "/dev/vfio/vfio");
		switch (r->kind) {
		case VFT_RULE_INTEGER:
			c.arg = 7;
			break;
		case VFT_RULE_FIXED: {
			uint32_t n = r->size < sizeof(in) ? r->size : sizeof(in);
			int32_t v = 3; /* e.g. a container fd, in this host's byte order */
			if (n >= sizeof(v))
				memcpy(in, &v, sizeof(v));
			c.in_len = c.want_len = n;
			break;
		}
		case VFT_RULE_SIZED: {
			/* argsz = minsz: the smallest call the kernel accepts */
			uint32_t n = r->minsz < sizeof(in) ? r->minsz : sizeof(in);
			if (n >= 4)
				memcpy(in, &n, 4);
			c.in_len = c.want_len = n;
			break;
		}
		case VFT_RULE_CSTRING:
			memcpy(in, name, sizeof(name) - 1);
			c.in_len = c.want_len = sizeof(name) - 1;
			break;
		default:
			break;
		}
		if (c.kind != VFT_RULE_NONE && c.kind != VFT_RULE_INTEGER) {
			/* pointer arguments: the lowest such VFIO numbers are group
			 * ioctls, so a group fd keeps the decoded lines plausible */
			c.arg = 0x7ffc0000u;
			c.fd = 4;
			c.path_len = (uint16_t)snprintf(c.path, sizeof(c.path), "/dev/vfio/42");
		}
		c.out_len = c.in_len;
		memcpy(outb, in, c.in_len);
		rec_ioctl(&ob, SELFTEST_PID, SELFTEST_PID, &c);
		events++;
	}
	rec_process(&ob, PK_EXIT, SELFTEST_PID, SELFTEST_PID, 0, 0, NULL);
	rec_end(&ob, VFT_END_EXITED, 0, 0, events, NULL);
	int rc = ob_flush(&ob);
	ob_free(&ob);
	if (close(fd) != 0 || rc != 0) {
		fprintf(stderr, "vfiotrace-record: writing %s failed\n", path);
		return 2;
	}
	return 0;
}
