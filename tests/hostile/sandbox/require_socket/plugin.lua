return {id = "hostile.require_socket", version = "1.0.0", entry = "attack",
        description = "require('socket') (LuaSocket is installed on the host) even when allowed_modules names it"}
