return {id = "hostile.require_dotdot", version = "1.0.0", entry = "attack",
        description = "require of a module name with .. and slashes that climbs out of the plugin"}
