/* Shared by the libFuzzer harnesses: the input as a NUL-terminated copy,
 * and the selector byte of the harnesses that hold several parsers. */
#ifndef HUSK_FUZZ_H
#define HUSK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a C string (a NUL inside simply ends it early). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The first byte picks one of the letters of kinds (seeds are readable:
 * "m{...}"); any other byte still picks one, so no input is wasted. */
static inline size_t fuzz_select(const uint8_t *data, size_t size, const char *kinds)
{
	size_t n = strlen(kinds);
	const char *hit = size && data[0] ? strchr(kinds, data[0]) : NULL;
	if (hit)
		return (size_t)(hit - kinds);
	return size ? data[0] % n : 0;
}

/* A property the code promises broke: stop with a message libFuzzer keeps
 * next to the input that did it. */
#define FUZZ_ASSERT(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: property failed: %s\n", #cond);                     \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A decoder's error, as a user reads it: it has a cause, names the
 * document first ("config.json: process.args[2]: ..."), fits its buffer,
 * and carries no control character from hostile input to a terminal or a
 * log line. */
#define FUZZ_CHECK_ERROR(r, err, source)                                                            \
	do {                                                                                       \
		FUZZ_ASSERT((r) < 0 && (err)->code > 0, "failure %d with error code %d", (r),       \
			    (err)->code);                                                          \
		FUZZ_ASSERT(memchr((err)->msg, '\0', sizeof((err)->msg)) != NULL,                  \
			    "unterminated error message");                                         \
		FUZZ_ASSERT(strncmp((err)->msg, source ": ", strlen(source ": ")) == 0,             \
			    "error does not name %s: %s", source, (err)->msg);                     \
		for (const char *c_ = (err)->msg; *c_; c_++)                                       \
			FUZZ_ASSERT((unsigned char)*c_ >= 0x20 && *c_ != 0x7f,                      \
				    "control character %#x in the error: %s", (unsigned char)*c_,    \
				    (err)->msg);                                                   \
	} while (0)

#endif
