return {
  extends = "./two.lua",
}
-- expect: cycle/three.lua:3: extends: cycle in extends: $DIR/cycle/one.lua -> $DIR/cycle/two.lua -> $DIR/cycle/three.lua -> $DIR/cycle/one.lua
