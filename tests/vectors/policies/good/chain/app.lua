-- app.lua -> sub/team.lua -> base.lua -> enterprise
return {
  extends = "./sub/team.lua",
  max_execution_time_sec = "2m",
}
