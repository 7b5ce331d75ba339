return {
  extends = "../base.lua",
  name = "team",
  allowed_paths = {"/srv/team"},
}
