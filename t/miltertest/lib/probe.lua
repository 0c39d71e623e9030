-- probe.lua - one decision, for scripts that only need "what does it say now".
--   miltertest -s probe.lua -D libdir=DIR -D socket=SPEC -D client=IP
--              -D rcpt=ADDR -D want=continue|reject|tempfail -D name=TEXT [-D auth=USER]
local T = dofile(libdir .. "/common.lua")
T.tag = "probe"
T.session({ ip = client, auth = auth }, { { "<" .. rcpt .. ">", want, name or "probe" } })
T.done()
