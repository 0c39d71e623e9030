-- 20-relay.lua - relay decisions at RCPT for the clients an MTA reports.
-- Policy: relaymilter.conf beside this script.
local T = dofile(libdir .. "/common.lua")
T.tag = "relay"

-- untrusted IPv4 client
T.session({ ip = "203.0.113.9" }, {
	{ "<user@example.com>", "continue", "untrusted v4: local domain continues" },
	{ "<USER@Deep.Sub.EXAMPLE.com>", "continue", "untrusted v4: subdomain, mixed case continues" },
	{ "<user@mx.example.com>", "continue", "untrusted v4: our hostname continues" },
	{ "<user@backup.example.net>", "continue", "untrusted v4: relay domain continues" },
	{ "<postmaster>", "continue", "untrusted v4: bare postmaster continues" },
	{ "<user@remote.test>", "reject", "untrusted v4: remote rcpt rejected 550" },
	{ "<user@example.com.remote.test>", "reject", "untrusted v4: look-alike domain rejected" },
})
-- routing tricks in the local part are relays even at a local domain
T.session({ ip = "203.0.113.9" }, {
	{ "<user%remote.test@example.com>", "reject", "percent hack rejected" },
	{ "<remote.test!user@example.com>", "reject", "bang path rejected" },
	{ "<@example.com:user@remote.test>", "reject", "source route rejected" },
	{ "<user@remote.test@example.com>", "reject", "double @ rejected" },
	{ "<user@example.com>", "continue", "same message: local rcpt still continues" },
})
-- trusted networks
T.session({ ip = "192.0.2.5" }, {
	{ "<user@remote.test>", "continue", "trusted v4 192.0.2.5: remote continues" },
	{ "<user%remote.test@example.com>", "continue", "trusted v4: percent hack relays" },
})
T.session({ ip = "::ffff:192.0.2.5" }, {
	{ "<user@remote.test>", "continue", "v4-mapped ::ffff:192.0.2.5 matches the v4 network" },
})
T.session({ ip = "::ffff:203.0.113.9" }, {
	{ "<user@remote.test>", "reject", "v4-mapped untrusted ::ffff:203.0.113.9 rejected" },
})
T.session({ ip = "2001:db8:1::25" }, {
	{ "<user@remote.test>", "continue", "trusted v6 2001:db8:1::25: remote continues" },
})
T.session({ ip = "2001:db8:2::25" }, {
	{ "<user@example.com>", "continue", "untrusted v6: local continues" },
	{ "<user@remote.test>", "reject", "untrusted v6 2001:db8:2::25: remote rejected 550" },
})
T.session({ ip = "::1" }, {
	{ "<user@remote.test>", "continue", "trusted v6 ::1: remote continues" },
})
-- the socket address wins over a {client_addr} macro that disagrees
T.session({ ip = "203.0.113.9", macros = { "{client_addr}", "192.0.2.5" } }, {
	{ "<user@remote.test>", "reject", "{client_addr} cannot override the connect address" },
})

-- SMTP AUTH: {auth_authen} at MAIL, or only at RCPT
T.session({ ip = "203.0.113.9", auth = "alice" }, {
	{ "<user@remote.test>", "continue", "auth at MAIL: remote continues" },
})
local conn = T.open({ ip = "2001:db8:2::25" })
T.mail(conn)
T.rcpt(conn, "<user@remote.test>", "continue", "auth only at RCPT: remote continues",
    { macros = { "{rcpt_addr}", "user@remote.test", "{auth_authen}", "bob" } })
T.rcpt(conn, "<other@remote.test>", "reject", "next RCPT without the macro: rejected",
    { macros = { "{rcpt_addr}", "other@remote.test" } })
mt.disconnect(conn)
T.session({ ip = "203.0.113.9", auth = "" }, {
	{ "<user@remote.test>", "reject", "empty {auth_authen} is no auth" },
})

-- unknown client address: tempfail for relays, local still fine
T.session({ ip = "unspec", host = "unknown" }, {
	{ "<user@example.com>", "continue", "unknown address: local continues" },
	{ "<postmaster>", "continue", "unknown address: postmaster continues" },
	{ "<user@remote.test>", "tempfail", "unknown address (no sockaddr, no macro): remote 451" },
})
T.session({ ip = "unspec", host = "unknown",
	    macros = { "_", "unknown", "{client_addr}", "unknown" } }, {
	{ "<user@remote.test>", "tempfail", "{client_addr}=unknown: remote 451" },
})
T.session({ ip = "unspec", host = "unknown", auth = "alice" }, {
	{ "<user@remote.test>", "continue", "unknown address but authenticated: continues" },
})
-- no socket address (Sendmail -bs): the client is unknown, whatever
-- {client_addr} says (a local user can set it with -oM)
T.session({ ip = "unspec", host = "localhost", macros = { "{client_addr}", "192.0.2.5" } }, {
	{ "<user@remote.test>", "tempfail", "no sockaddr, {client_addr}=192.0.2.5 (trusted): still 451" },
})
T.session({ ip = "unspec", host = "localhost", macros = { "{client_addr}", "0" } }, {
	{ "<user@remote.test>", "tempfail", "Sendmail -bs, {client_addr}=0: remote 451" },
})
-- our address: Sendmail's {if_addr}, else {daemon_addr} unless a wildcard
local lmailer = { macros = { "{rcpt_mailer}", "local" } }
T.session({ ip = "203.0.113.9", macros = { "{if_addr}", "198.51.100.1", "{daemon_addr}", "0.0.0.0" } }, {
	{ "<user@[198.51.100.1]>", "continue", "{if_addr}: our address literal is local", lmailer },
	{ "<user@[198.51.100.1]>", "reject", "our literal the MTA hands to esmtp: a relay",
	  { macros = { "{rcpt_mailer}", "esmtp", "{rcpt_host}", "[198.51.100.1]" } } },
	{ "<user@[::ffff:198.51.100.1]>", "reject", "our address as an untagged IPv4-mapped literal: a relay", lmailer },
	{ "<user@[0:0:0:0:0:ffff:c663:6401]>", "reject", "our address as a hex IPv4-mapped literal: a relay", lmailer },
	{ "<user@[0.0.0.0]>", "reject", "{daemon_addr}=0.0.0.0 is not our address" },
})
T.session({ ip = "203.0.113.9", macros = { "{daemon_addr}", "0.0.0.0" } }, {
	{ "<user@[0.0.0.0]>", "reject", "wildcard {daemon_addr} alone: not our address" },
})
T.session({ ip = "203.0.113.9", macros = { "{daemon_addr}", "::" } }, {
	{ "<user@[IPv6:::]>", "reject", "wildcard {daemon_addr} :: alone: not our address" },
})
T.session({ ip = "203.0.113.9", macros = { "{daemon_addr}", "198.51.100.2" } }, {
	{ "<user@[198.51.100.2]>", "continue", "{daemon_addr} without {if_addr}: our address literal", lmailer },
})
-- {mail_addr}: the sender as the MTA resolved it; a bare user is local
conn = T.open({ ip = "203.0.113.9" })
T.mail(conn, { from = "ceo@remote.test", macros = { "i", "Q1", "{mail_addr}", "ceo" } })
T.rcpt(conn, "<user@example.com>", "reject", "{mail_addr} resolved to a local user: spoof refused", { code = "553" })
mt.disconnect(conn)
conn = T.open({ ip = "203.0.113.9" })
T.mail(conn, { from = "ceo%example.com@localhost.", macros = { "i", "Q2" } })
T.rcpt(conn, "<user@example.com>", "reject", "percent hack through localhost: spoof refused", { code = "553" })
mt.disconnect(conn)
conn = T.open({ ip = "203.0.113.9" })
T.mail(conn, { from = "friend@remote.test", macros = { "i", "Q3", "{mail_addr}", "friend@remote.test" } })
T.rcpt(conn, "<user@example.com>", "continue", "{mail_addr} of a remote sender: continues")
mt.disconnect(conn)
T.done()
