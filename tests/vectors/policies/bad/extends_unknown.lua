return {
  extends = "standrd",
  allow_network = 1,
}
-- expect: 2: extends: unknown preset "standrd"; expected one of development, testing, standard, enterprise, strict, airgapped (did you mean 'standard'?), or a path such as "./standrd.lua"
-- expect: 3: allow_network: expected true or false, got 1
