/* sessionkey: print the calling process's session keyring for the
 * --no-new-keyring tests, as "SERIAL DESCRIPTION" (the description is the
 * keyring's name). Linked statically so it runs inside a busybox rootfs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEYCTL_DESCRIBE 6
#define KEY_SPEC_SESSION_KEYRING (-3)

int main(void)
{
	char desc[512];
	/* without a session keyring of its own a process searches the user
	 * session keyring: that is what this returns then */
	long serial = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	if (serial < 0) {
		fprintf(stderr, "sessionkey: keyctl: %s\n", strerror(errno));
		return 1;
	}
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, desc, sizeof(desc));
	if (n < 0 || (size_t)n > sizeof(desc)) {
		fprintf(stderr, "sessionkey: describe %ld: %s\n", serial, strerror(errno));
		return 1;
	}
	/* type;uid;gid;perm;name */
	const char *name = strrchr(desc, ';');
	printf("%ld %s\n", serial, name ? name + 1 : desc);
	return 0;
}
