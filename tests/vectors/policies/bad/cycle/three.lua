return {
  max_memory_mb = 64,
  extends = "../cycle/one.lua",
}
-- expect: cycle/two.lua:2: extends: cycle in extends: $DIR/cycle/three.lua -> $DIR/cycle/one.lua -> $DIR/cycle/two.lua -> $DIR/cycle/three.lua
