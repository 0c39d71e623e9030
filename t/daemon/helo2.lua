-- helo2.lua - a second HELO in a session (after STARTTLS, say) is what the
-- later decisions and their log lines name.
local T = dofile(libdir .. "/common.lua")
T.tag = "helo2"

local conn = T.open({ ip = "198.51.100.8", helo = "first.helo.test" })
T.mail(conn)
T.rcpt(conn, "<h1@example.com>", "continue", "decision after the first HELO")
if mt.helo(conn, "second.helo.test") ~= nil then T.fatal("second helo") end
T.mail(conn)
T.rcpt(conn, "<h2@example.com>", "continue", "decision after the second HELO")
mt.disconnect(conn)
T.done()
