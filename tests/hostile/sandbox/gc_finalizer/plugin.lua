return {id = "hostile.gc_finalizer", version = "1.0.0", entry = "attack",
        description = "A __gc finalizer that loops (finalizers run without the hook)"}
