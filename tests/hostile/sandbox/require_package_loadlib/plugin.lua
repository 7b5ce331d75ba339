return {id = "hostile.require_package_loadlib", version = "1.0.0", entry = "attack",
        description = "package.loadlib through require('package')"}
