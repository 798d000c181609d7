-- wrk script: the first page of 50 cases of one origin regency and status,
-- newest first (GET /api/v1/cases?origin_region=…&status=…&limit=50), for a
-- regency picked at random from REGIONS (comma-separated), with the bearer
-- token in PULANG_TOKEN.
local token = os.getenv("PULANG_TOKEN")
local regions = {}
for code in string.gmatch(os.getenv("REGIONS"), "[^,]+") do regions[#regions + 1] = code end
local headers = { ["Authorization"] = "Bearer " .. token }

function setup(thread) thread:set("seed", math.random(1, 1000000)) end
function init() math.randomseed(seed or os.time()) end

function request()
  local region = regions[math.random(#regions)]
  return wrk.format("GET", "/api/v1/cases?origin_region=" .. region .. "&status=registered&limit=50", headers)
end
