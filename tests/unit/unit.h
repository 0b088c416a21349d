/* A minimal test harness: CHECK records a failure and goes on; the binary
 * prints "N passed, N failed" and exits non-zero on any failure. */
#ifndef HUSK_TESTS_UNIT_H
#define HUSK_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			unit_passed++;                                                             \
		} else {                                                                           \
			unit_failed++;                                                             \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	CHECK((got) != NULL && strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"",              \
	      (got) ? (got) : "(null)", (want))

/* Where the test data lives: $HUSK_SRCDIR or automake's $srcdir, then ".". */
static inline void unit_data_dir(char *out, size_t size, const char *sub)
{
	const char *srcdir = getenv("HUSK_SRCDIR");
	if (srcdir == NULL)
		srcdir = getenv("srcdir");
	snprintf(out, size, "%s/tests/unit/%s", srcdir ? srcdir : ".", sub);
}

/* Run check on each of a fixed list of sample files. */
#define UNIT_EACH_SAMPLE(check, ...)                                                              \
	do {                                                                                       \
		static const char *const samples_[] = { __VA_ARGS__ };                             \
		for (size_t i_ = 0; i_ < sizeof(samples_) / sizeof(samples_[0]); i_++)             \
			check(samples_[i_]);                                                       \
	} while (0)

static inline int unit_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
