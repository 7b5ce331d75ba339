return {id = "hostile.require_symlink", version = "1.0.0", entry = "attack",
        description = "require of a plugin module that is a symlink to the host key"}
