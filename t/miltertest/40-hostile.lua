-- 40-hostile.lua - 8-bit bytes and long arguments: a sane answer, no crash.
-- (miltertest copies arguments into a 1 KiB buffer, so "long" here is just
-- under that; the 10 KiB cases are in run.sh through lib/rawclient.pl.)
local T = dofile(libdir .. "/common.lua")
T.tag = "hostile"

local hi = "\200\233\255\001\127"
local conn = T.open({ ip = "203.0.113.9", host = "h" .. hi .. ".test", helo = "helo" .. hi .. "x" })
T.mail(conn, { from = "s" .. hi .. "@sender.test" })
T.rcpt(conn, "<u" .. hi .. "@remote.test>", "reject", "8-bit local part, remote domain: rejected", { nolog = true })
T.rcpt(conn, "<u" .. hi .. "@example.com>", "answered", "8-bit local part, local domain: answered")
T.rcpt(conn, "<user@ex" .. hi .. "ample.com>", "reject", "8-bit domain: rejected", { nolog = true })
T.rcpt(conn, "<user@example.com" .. hi .. ">", "reject", "8-bit after a local domain: rejected", { nolog = true })
T.rcpt(conn, "user@example.com\r\nRCPT TO:<x@remote.test>", "answered", "CR LF inside rcpt: answered")
T.rcpt(conn, "<>", "answered", "empty rcpt <>: answered")
T.rcpt(conn, "", "answered", "empty rcpt string: answered")
mt.disconnect(conn)

-- long arguments, just below miltertest's limit
local long = string.rep("a", 900)
conn = T.open({ ip = "203.0.113.9", helo = string.rep("h", 1000) })
T.mail(conn, { from = "s@sender.test",
	       macros = { "i", string.rep("q", 500), "{auth_type}", string.rep("t", 400) } })
T.rcpt(conn, "<" .. long .. "@remote.test>", "reject", "900-byte local part, remote: rejected", { nolog = true })
mt.disconnect(conn)
-- a local part beyond RM_LOCAL_MAX (addr.h) that the MTA took is judged
-- by its domain, never refused for its length
conn = T.open({ ip = "203.0.113.9", helo = "c.test" })
T.mail(conn, { from = long .. "@sender.test" })
T.rcpt(conn, "<user@example.com>", "continue", "900-byte remote sender, local rcpt: continues", { nolog = true })
mt.disconnect(conn)
conn = T.open({ ip = "203.0.113.9", helo = "c.test" })
T.mail(conn, { from = long .. "@example.com" })
T.rcpt(conn, "<user@example.com>", "reject", "900-byte sender in our domain, outsider: rejected (spoof)", { nolog = true })
mt.disconnect(conn)
conn = T.open({ ip = "203.0.113.9", helo = "c.test" })
T.mail(conn, { from = long .. "%example.com@sender.test" })
T.rcpt(conn, "<user@example.com>", "reject", "900-byte routed sender, outsider: rejected (spoof)", { nolog = true })
mt.disconnect(conn)
conn = T.open({ ip = "203.0.113.9", helo = string.rep("h", 1000) })
T.mail(conn, { from = "s@sender.test" })
-- a long local part is judged by its domain; beyond the domain limit of
-- include/relaymilter/addr.h (255 bytes) an address cannot be shown to be
-- local: a relay, rejected
T.rcpt(conn, "<" .. long .. "@example.com>", "continue", "900-byte local part at a local domain: continues", { nolog = true })
T.rcpt(conn, "<" .. long .. "%remote.test@example.com>", "reject", "900-byte routed local part at a local domain: rejected", { nolog = true })
T.rcpt(conn, "<" .. string.rep("a", 256) .. "@example.com>", "continue", "256-byte local part at a local domain: continues", { nolog = true })
T.rcpt(conn, "<user@" .. string.rep("b.", 450) .. "example.com>", "reject", "900-byte subdomain of a local domain: rejected", { nolog = true })
T.rcpt(conn, "<user@" .. string.rep("b.", 120) .. "example.com>", "continue", "251-byte subdomain of a local domain: continues", { nolog = true })
T.rcpt(conn, "<user@" .. string.rep("b.", 450) .. "remote.test>", "reject", "900-byte remote domain: rejected", { nolog = true })
mt.disconnect(conn)

-- 8-bit and long macro values
conn = T.open({ ip = "unspec", host = "x",
	        macros = { "{client_addr}", "192.0.2.5" .. hi, "{daemon_addr}", string.rep("9", 800) } })
T.mail(conn, { macros = { "{auth_authen}", "al" .. hi .. "ice" } })
T.rcpt(conn, "<user@remote.test>", "answered", "8-bit {client_addr} and {auth_authen}: answered", { nolog = true })
mt.disconnect(conn)
conn = T.open({ ip = "unspec", host = "x", macros = { "{client_addr}", "192.0.2.5" .. hi } })
T.mail(conn)
T.rcpt(conn, "<user@remote.test>", "tempfail", "garbage {client_addr} without sockaddr: 451", { nolog = true })
mt.disconnect(conn)

-- still serving
T.session({ ip = "192.0.2.5" }, { { "<k1@remote.test>", "continue", "still serving after the hostile input" } })
T.done()
