-- 60-adapter.lua - the RCPT-stage macros the adapter must hand to the
-- engine: {rcpt_addr} (the MTA's own resolution), {rcpt_mailer} and
-- {rcpt_host} (where it delivers an address literal).
-- Policy: relaymilter.conf beside this script.
local T = dofile(libdir .. "/common.lua")
T.tag = "adapter"

-- the MTA resolved a local-looking recipient to a remote one: a relay
T.session({ ip = "203.0.113.9" }, {
	{ "<user@example.com>", "reject", "{rcpt_addr} remote for a local rcpt: a relay",
	  { macros = { "{rcpt_addr}", "user@remote.test", "{rcpt_mailer}", "smtp" } } },
	{ "<user@example.com>", "continue", "{rcpt_addr} agrees: continues",
	  { macros = { "{rcpt_addr}", "user@example.com", "{rcpt_mailer}", "local" } } },
	{ "<user@example.com>", "continue", "{rcpt_addr} a bare local user: continues",
	  { macros = { "{rcpt_addr}", "user", "{rcpt_mailer}", "local" } } },
})
-- our address literal handed to an SMTP mailer: ours only when the next
-- hop is one of our names
T.session({ ip = "203.0.113.9", macros = { "{daemon_addr}", "198.51.100.2" } }, {
	{ "<user@[198.51.100.2]>", "continue", "literal, esmtp to our host name: ours",
	  { macros = { "{rcpt_mailer}", "esmtp", "{rcpt_host}", "mx.example.com" } } },
	{ "<user@[198.51.100.2]>", "continue", "literal, relay mailer to our relay domain: ours",
	  { macros = { "{rcpt_mailer}", "relay", "{rcpt_host}", "backup.example.net" } } },
	{ "<user@[198.51.100.2]>", "reject", "literal, esmtp to another host: a relay",
	  { macros = { "{rcpt_mailer}", "esmtp", "{rcpt_host}", "mx.remote.test" } } },
	{ "<user@[198.51.100.2]>", "reject", "literal, smtp without a host: a relay",
	  { macros = { "{rcpt_mailer}", "smtp" } } },
	{ "<user@[198.51.100.2]>", "continue", "literal, local mailer: ours",
	  { macros = { "{rcpt_mailer}", "local" } } },
})
-- a wildcard {daemon_addr} says nothing about our address, even for a
-- literal the MTA would deliver locally
local lmailer = { macros = { "{rcpt_mailer}", "local" } }
T.session({ ip = "203.0.113.9", macros = { "{daemon_addr}", "0.0.0.0" } }, {
	{ "<user@[0.0.0.0]>", "reject", "{daemon_addr}=0.0.0.0, local mailer: not ours", lmailer },
})
T.session({ ip = "203.0.113.9", macros = { "{daemon_addr}", "::" } }, {
	{ "<user@[IPv6:::]>", "reject", "{daemon_addr}=::, local mailer: not ours", lmailer },
})
T.done()
