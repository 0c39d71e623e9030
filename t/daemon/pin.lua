-- pin.lua - a reload does not change the policy of a session already open.
--   -D reload=CMD   shell command that sends SIGUSR1 and waits for the log line
-- Before the reload 203.0.113.9 is untrusted; the new config trusts it.
local T = dofile(libdir .. "/common.lua")
T.tag = "pin"

local conn = T.open({ ip = "203.0.113.9" })
T.mail(conn)
T.rcpt(conn, "<p1@remote.test>", "reject", "open session before reload: rejected")
local okr = os.execute(reload)
T.result(okr == true or okr == 0, "reload done while the session is open")
T.rcpt(conn, "<p2@remote.test>", "reject", "same session after reload: still the old policy")
T.mail(conn)
T.rcpt(conn, "<p3@remote.test>", "reject", "same session, next message: still the old policy")
mt.disconnect(conn)
T.session({ ip = "203.0.113.9" }, {
	{ "<p4@remote.test>", "continue", "new session after reload: the new policy" },
})
T.done()
