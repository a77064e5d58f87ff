package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.server.ContinuumConfig;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The per-request limits that are not about generation: the body size ({@code continuum.max-request-bytes}, one
 * limit for every route, answered with 413 in OpenAI's error shape) and the deadline ({@code timeout}, at most
 * {@code continuum.request-timeout}).
 */
@ApplicationScoped
public class RequestLimits {
    /** A request's deadline: the seconds it asked for (or the configured maximum) and when they run out. */
    record Deadline(double seconds, long nanos) {
    }

    private final long maxBodyBytes;
    private final double maxTimeoutSeconds;
    private final ObjectMapper json;

    public RequestLimits(ContinuumConfig config, ObjectMapper json) {
        this.maxBodyBytes = config.maxRequestBytes();
        this.maxTimeoutSeconds = config.requestTimeout().toNanos() / 1e9;
        this.json = json;
    }

    /**
     * Before every other route: a declared Content-Length over the limit is refused at once, before any of the body
     * is read. A chunked body is counted by a body handler on each route that takes one ({@link #bodyHandler()});
     * Quarkus' own limit ({@code quarkus.http.limits.max-body-size}) is set to the same value behind them.
     */
    void register(@Observes Router router) {
        router.route().order(-20).handler(this::checkContentLength);
        // The JAX-RS routes read what this body handler has read; it counts a chunked body as ours do.
        for (String path : new String[] {"/tokenize", "/detokenize"}) {
            router.post(path).order(-10).handler(bodyHandler()).failureHandler(this::onFailure);
        }
    }

    private void checkContentLength(RoutingContext rc) {
        String declared = rc.request().getHeader("Content-Length");
        long length;
        try {
            length = declared == null ? -1 : Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            length = -1; // Vert.x refuses a malformed Content-Length itself
        }
        if (length > maxBodyBytes) {
            // The client is still sending: close once this answer is out instead of reading what is left.
            rc.response().putHeader("Connection", "close");
            ErrorResponses.write(rc.response(), ApiException.bodyTooLarge(" (" + length + " bytes)", maxBodyBytes),
                    json);
            return;
        }
        rc.next();
    }

    /** Reads a body up to the limit; a larger one fails the route with 413, which {@link #onFailure} answers. */
    BodyHandler bodyHandler() {
        return BodyHandler.create().setBodyLimit(maxBodyBytes).setHandleFileUploads(false);
    }

    /** The failure handler of our routes: a body over the limit (413) in OpenAI's shape, else the default. */
    void onFailure(RoutingContext rc) {
        if (rc.statusCode() == 413) {
            rc.response().putHeader("Connection", "close");
            ErrorResponses.write(rc.response(), ApiException.bodyTooLarge("", maxBodyBytes), json);
            return;
        }
        rc.next();
    }

    /**
     * The request's deadline from {@code timeout} (seconds, a positive number up to {@code continuum.request-timeout}),
     * or that maximum when it is absent, counted from {@code arrivalNanos}.
     */
    Deadline deadline(JsonFields f, long arrivalNanos) {
        double seconds = maxTimeoutSeconds;
        JsonNode t = f.raw("timeout");
        if (t != null) {
            if (!t.isNumber() || !(t.asDouble() > 0) || t.asDouble() > maxTimeoutSeconds) {
                throw ApiException.invalid("timeout", "'timeout' must be a number of seconds greater than 0 and at most "
                        + format(maxTimeoutSeconds) + " (continuum.request-timeout), got " + t);
            }
            seconds = t.asDouble();
        }
        // Capped at ~146 years so a huge configured maximum cannot overflow nanoTime arithmetic.
        return new Deadline(seconds, arrivalNanos + (long) Math.min(seconds * 1e9, Long.MAX_VALUE / 2.0));
    }

    static String format(double seconds) {
        return seconds == Math.rint(seconds) ? Long.toString((long) seconds) : Double.toString(seconds);
    }
}
