return {id = "hostile.collectgarbage", version = "1.0.0", entry = "attack",
        description = "collectgarbage beyond 'count': stop the collector, tune it"}
