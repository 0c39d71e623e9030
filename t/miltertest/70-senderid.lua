-- 70-senderid.lua - sender identity through the milter protocol, on the
-- "ident" listener (sender_logins of its own): a login that is an address
-- owns it (sender_login_implicit), with extensions (recipient_delimiter),
-- and {mail_addr} is judged the same way.
local T = dofile(libdir .. "/common.lua")
T.tag = "sid"

local function open()
	return T.open({ ip = "203.0.113.9",
	    macros = { "j", "mx.example.com", "_", "client.test [203.0.113.9]",
	               "{daemon_name}", "ident", "{client_addr}", "203.0.113.9" } })
end

-- one message: LOGIN sends as FROM ({mail_addr} MAILADDR, default FROM)
local function try(login, from, want, name, mailaddr)
	local conn = open()
	T.mail(conn, { from = from, macros = { "i", "Q7", "{mail_addr}", mailaddr or from,
	    "{auth_authen}", login, "{auth_type}", "PLAIN" } })
	T.rcpt(conn, "<friend@remote.test>", want, name,
	    want == "reject" and { code = "553" } or nil)
	mt.disconnect(conn)
end

try("alice@example.com", "alice@example.com", "continue", "the login itself (implicit)")
try("alice@example.com", "Alice+News@Example.COM", "continue", "the login with an extension")
try("alice@example.com", "sales+q3@example.com", "continue", "a listed sender with an extension")
try("alice@example.com", "bob@example.com", "reject", "another address: 553")
try("alice@example.com", "+x@example.com", "reject", "an empty base is never cut: 553")
try("alice@example.com", "alice+x@example.com", "reject",
    "{mail_addr} another address: 553", "bob@example.com")
try("bob", "alice@example.com", "reject", "a login that is no address owns no address: 553")
T.done()
