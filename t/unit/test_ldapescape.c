/*
 * test_ldapescape.c - RFC 4515 escaping of the values put into LDAP
 * filters (a login, a user's DN): every special byte, NUL, 8-bit bytes,
 * the empty value, injection attempts, and the buffer's edge.
 */
#include <string.h>

#include "check.h"
#include "relaymilter/ldapsrc.h"

static void
want(const char *v, size_t vlen, const char *expect)
{
	char buf[256];
	const char *got = rm_ldap_escape(v, vlen, buf, sizeof(buf));

	CHECK(got != NULL && strcmp(got, expect) == 0,
	      "escape of %zu bytes: got \"%s\" want \"%s\"", vlen,
	      got ? got : "(null)", expect);
}

int
main(void)
{
	char buf[16];
	size_t i;

	want("alice", 5, "alice");
	want("", 0, "");
	want("*", 1, "\\2a");
	want("(", 1, "\\28");
	want(")", 1, "\\29");
	want("\\", 1, "\\5c");
	want("a\0b", 3, "a\\00b");
	want("\xc3\xa9", 2, "\\c3\\a9");
	/* what an attacker types as a login cannot open the filter */
	want("*)(uid=*", 8, "\\2a\\29\\28uid=\\2a");
	want("carol)(|(uid=*", 14, "carol\\29\\28|\\28uid=\\2a");
	want("x\\2a", 4, "x\\5c2a");
	/* a DN keeps its commas and equals signs (not filter specials) */
	want("uid=bob,ou=people,dc=example,dc=com", 35,
	     "uid=bob,ou=people,dc=example,dc=com");
	/* every byte value: only the specials, NUL and 8-bit change */
	for (i = 1; i < 256; i++) {
		char in[2] = {(char)i, 0}, out[8];
		const char *got = rm_ldap_escape(in, 1, out, sizeof(out));
		int special =
		    i == '*' || i == '(' || i == ')' || i == '\\' || i >= 0x80;

		CHECK(got != NULL &&
		          (special ? strlen(got) == 3 && got[0] == '\\'
		                   : strlen(got) == 1 && got[0] == in[0]),
		      "byte 0x%02zx", i);
	}
	/* too long for the buffer: NULL, never a cut filter value */
	CHECK(rm_ldap_escape("abcdefghijklm", 13, buf, sizeof(buf)) == NULL,
	      "13 bytes in 16: no room for a worst-case 14th");
	CHECK(rm_ldap_escape("abcdefghijkl", 12, buf, sizeof(buf)) != NULL &&
	          strcmp(buf, "abcdefghijkl") == 0,
	      "12 bytes in 16");
	CHECK(rm_ldap_escape("((((", 4, buf, sizeof(buf)) != NULL &&
	          strcmp(buf, "\\28\\28\\28\\28") == 0,
	      "four specials in 16");
	CHECK(rm_ldap_escape("(((((", 5, buf, sizeof(buf)) == NULL,
	      "five specials do not fit in 16");
	return check_done();
}
