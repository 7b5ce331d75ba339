return { extends = "./self.lua" }
-- expect: 1: extends: cycle in extends: $DIR/cycle/self.lua -> $DIR/cycle/self.lua
