-- wrk script: GET /api/v1/cases/{id} for ids picked at random from the file
-- named by IDS_FILE, with the bearer token in PULANG_TOKEN.
local token = os.getenv("PULANG_TOKEN")
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local headers = { ["Authorization"] = "Bearer " .. token }

function setup(thread) thread:set("seed", math.random(1, 1000000)) end
function init() math.randomseed(seed or os.time()) end

function request()
  return wrk.format("GET", "/api/v1/cases/" .. ids[math.random(#ids)], headers)
end
