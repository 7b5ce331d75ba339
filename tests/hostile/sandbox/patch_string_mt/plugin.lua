return {id = "hostile.patch_string_mt", version = "1.0.0", entry = "attack",
        description = "Patches the string metatable and string library to hijack the host's string methods"}
