/* The little of the kernel the capture program reads, declared for CO-RE:
 * field offsets are relocated at load time against the running kernel's
 * BTF, so one object serves every kernel (no vmlinux.h of one build). */
#ifndef VFT_BPF_KERNEL_H
#define VFT_BPF_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

typedef int pid_t;

struct vm_area_struct;
struct kernel_siginfo;
struct k_sigaction;

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live;
} __attribute__((preserve_access_index));

struct qstr {
	__u32 len;
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct super_block {
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct hlist_bl_node {
	struct hlist_bl_node *next, **pprev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	struct super_block *d_sb;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	int exit_code;
	struct signal_struct *signal;
	struct files_struct *files;
	struct task_struct *group_leader;
	char comm[16];
} __attribute__((preserve_access_index));

/* Pseudo filesystems whose files readlink names by kind, not by path. */
#define ANON_INODE_FS_MAGIC 0x09041934
#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B

struct linux_binprm {
	struct file *file;
	const char *filename;
} __attribute__((preserve_access_index));

#endif
