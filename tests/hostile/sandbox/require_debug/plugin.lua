return {id = "hostile.require_debug", version = "1.0.0", entry = "attack",
        description = "require('debug') to reach the registry and the host's upvalues"}
