package dev.continuum.server;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;

/**
 * The probes. {@code /health} and {@code /health/ready}: 200 only while the model is loaded, the server is not
 * draining and the engine makes progress; 503 naming why otherwise. {@code /health/live}: 200 while the engine
 * thread runs (a failed load too: restarting would not fix it, and the pod stays unready with the reason).
 * {@code /health/started}: 200 once loading has finished, well or not, so a startup probe holds liveness off only
 * while the model loads. See the README's "Health and shutdown".
 */
@Path(HealthResource.PATH)
@Produces(MediaType.APPLICATION_JSON)
public class HealthResource {
    public static final String PATH = "/health";

    private final ModelHost host;
    private final DrainCoordinator drain;

    public HealthResource(ModelHost host, DrainCoordinator drain) {
        this.host = host;
        this.drain = drain;
    }

    @GET
    public Response health() {
        return ready();
    }

    @GET
    @Path("ready")
    public Response ready() {
        return switch (host.state()) {
            case LOADING -> Response.status(503).entity(Map.of("status", "loading")).build();
            case FAILED -> Response.status(503).entity(Map.of("status", "failed", "error", host.failure())).build();
            case READY -> {
                if (drain.draining()) {
                    yield Response.status(503).entity(Map.of("status", "draining")).build();
                }
                if (host.engineStalled()) {
                    yield Response.status(503).entity(Map.of("status", "stalled", "error", "no engine step finished"
                            + " within " + host.config().engineStallTimeout().toSeconds() + " s")).build();
                }
                yield Response.ok(Map.of("status", "ok", "model", host.servedName())).build();
            }
        };
    }

    @GET
    @Path("live")
    public Response live() {
        return host.engineAlive() ? Response.ok(Map.of("status", "alive")).build()
                : Response.status(503).entity(Map.of("status", "dead", "error", "the engine thread has died")).build();
    }

    @GET
    @Path("started")
    public Response started() {
        return switch (host.state()) {
            case LOADING -> Response.status(503).entity(Map.of("status", "loading")).build();
            case READY -> Response.ok(Map.of("status", "started")).build();
            case FAILED -> Response.ok(Map.of("status", "failed", "error", host.failure())).build();
        };
    }
}
