-- wrk script: each request carries the next bearer token of the file named
-- by $TOKENS (one per line); every thread starts at another offset, so
-- that the threads do not send the same token at the same time.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end

local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

local i = 0
function init(args)
  i = (offset or 0) % #tokens
end

function request()
  i = i + 1
  if i > #tokens then i = 1 end
  return wrk.format(nil, nil, { ["Authorization"] = tokens[i] })
end
