return {
  extends = "three.lua",
}
-- expect: cycle/one.lua:2: extends: cycle in extends: $DIR/cycle/two.lua -> $DIR/cycle/three.lua -> $DIR/cycle/one.lua -> $DIR/cycle/two.lua
