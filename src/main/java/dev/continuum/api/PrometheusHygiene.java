package dev.continuum.api;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.util.Map;

/**
 * Keeps the whole {@code /metrics} scrape valid for {@code promtool check metrics}, library meters included:
 * Quarkus applies this filter to the registry before any binder registers. Meters without a description get one
 * (Prometheus' HELP line), and three library meters that break the Prometheus conventions are dealt with:
 * {@code system.cpu.count} (a gauge whose name reads as a histogram's {@code _count}) is renamed
 * {@code system.cpus}; {@code process.cpu.time} and {@code http.server.connections} are dropped (see
 * {@link #DROPPED}; {@code process_cpu_usage} and {@code http_server_active_requests} still tell the story).
 */
@Singleton
public class PrometheusHygiene {
    /** HELP for the library meters that register none, by Micrometer name. */
    private static final Map<String, String> HELP = Map.ofEntries(
            Map.entry("http.server.active.requests", "HTTP requests being served right now"),
            Map.entry("netty.allocator.memory.pinned", "Bytes of Netty buffer memory pinned by live buffers"),
            Map.entry("netty.allocator.memory.used", "Bytes of memory used by the Netty buffer allocator"),
            Map.entry("netty.allocator.pooled.arenas", "Arenas of the Netty pooled allocator"),
            Map.entry("netty.allocator.pooled.cache.size", "Cache sizes of the Netty pooled allocator, in buffers"),
            Map.entry("netty.allocator.pooled.chunk.size", "Chunk size of the Netty pooled allocator, in bytes"),
            Map.entry("netty.allocator.pooled.threadlocal.caches", "Thread-local caches of the Netty pooled allocator"),
            Map.entry("netty.eventexecutor.tasks.pending", "Tasks waiting in a Netty event executor"));

    /**
     * {@code process.cpu.time} is exposed in nanoseconds ({@code _ns_total}); the long-task timer
     * {@code http.server.connections} comes out as samples ({@code _active_count}, {@code _duration_sum}) outside
     * any family, without HELP, in the simpleclient exposition. Neither can be fixed by renaming.
     */
    private static final java.util.Set<String> DROPPED = java.util.Set.of("process.cpu.time",
            "http.server.connections");

    @Produces
    @Singleton
    public MeterFilter prometheusConventions() {
        return new MeterFilter() {
            @Override
            public MeterFilterReply accept(Meter.Id id) {
                return DROPPED.contains(id.getName()) ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
            }

            @Override
            public Meter.Id map(Meter.Id id) {
                String name = id.getName().equals("system.cpu.count") ? "system.cpus" : id.getName();
                String description = id.getDescription();
                if (description == null || description.isBlank()) {
                    description = HELP.getOrDefault(name, "Library metric " + name);
                }
                if (name.equals(id.getName()) && description.equals(id.getDescription())) {
                    return id;
                }
                return new Meter.Id(name, io.micrometer.core.instrument.Tags.of(id.getTagsAsIterable()),
                        id.getBaseUnit(), description, id.getType());
            }
        };
    }
}
