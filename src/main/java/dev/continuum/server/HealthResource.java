package dev.continuum.server;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;

/** {@code GET /health}: 200 once the model is loaded and warmed up, 503 before (or if loading failed). */
@Path("/health")
public class HealthResource {
    private final ModelHost host;

    public HealthResource(ModelHost host) {
        this.host = host;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response health() {
        return switch (host.state()) {
            case READY -> Response.ok(Map.of("status", "ok", "model", host.servedName())).build();
            case LOADING -> Response.status(503).entity(Map.of("status", "loading")).build();
            case FAILED -> Response.status(503).entity(Map.of("status", "failed", "error", host.failure())).build();
        };
    }
}
