-- nrmail.lua - MAIL costs a round trip only when the policy answers it.
--   -D want=yes|no   SMFIP_NR_MAIL expected (no listener requires AUTH)
-- Either way the relay is decided at RCPT.
local T = dofile(libdir .. "/common.lua")
T.tag = "nrm"

local conn = T.open({ ip = "198.51.100.7" })
local nr = mt.test_option(conn, SMFIP_NR_MAIL)
T.result(nr == (want == "yes"), "SMFIP_NR_MAIL negotiated: " .. tostring(nr) .. ", want " .. want)
T.mail(conn)
T.rcpt(conn, "<n1@remote.test>", "reject", "NR_MAIL " .. want .. ": relay from untrusted rejected at RCPT")
T.rcpt(conn, "<n2@example.com>", "continue", "NR_MAIL " .. want .. ": local recipient continues")
mt.disconnect(conn)
T.done()
