/*
 * hdraddr.h - the addresses of an RFC 5322 address-list header field
 * (From:, Sender:): display names, groups, comments and folding skipped,
 * each addr-spec returned as "local@domain".
 *
 * Pure and allocation-free.  It errs on the side of refusing: a value it
 * cannot read with certainty is an error, and header_from refuses it.
 */
#ifndef RM_HDRADDR_H
#define RM_HDRADDR_H

#include <stddef.h>

#include "relaymilter/addr.h"

#define RM_HDR_VALUE_MAX 8192 /* the longest header value read */
#define RM_HDR_ADDRS_MAX 16   /* the most addresses in one value */
#define RM_HDR_ADDR_MAX  (RM_LOCAL_MAX + RM_DOMAIN_MAX + 2)

struct rm_hdraddrs {
	size_t h_n;
	/* "local@domain": the local part without quotes (as written
	   otherwise), the domain lower-cased */
	char h_addr[RM_HDR_ADDRS_MAX][RM_HDR_ADDR_MAX];
};

/*
 * rm_hdraddr_parse - the addresses of one header value into out (which it
 * appends to: a message may have more than one such field).  0, or -1
 * with the reason in errbuf.  An address in a display name, an encoded
 * word or a comment is never one; an unquoted '@' in a display name, a
 * local part with a space, control or '@', more than RM_HDR_ADDRS_MAX
 * addresses or a value over RM_HDR_VALUE_MAX are errors.
 */
int rm_hdraddr_parse(const char *in, struct rm_hdraddrs *out, char *errbuf,
                     size_t errlen);

#endif
