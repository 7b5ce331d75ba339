return {
  extends = "./no-such-file.lua",
}
-- expect: 2: extends: cannot extend "./no-such-file.lua": $DIR/no-such-file.lua: cannot open: No such file or directory
