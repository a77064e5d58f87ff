package dev.continuum.server;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.util.Set;

/**
 * The one filter in front of every route (the Vert.x routes, the JAX-RS resources, /q/*): answers CORS
 * preflights, checks the API key, refuses new work while draining, and counts the requests in flight for the
 * {@link DrainCoordinator}. A Quarkus route filter runs before any route, so no route can be added that it misses.
 */
@ApplicationScoped
public class HttpGate {
    /** Kubernetes' probes: no key (the kubelet has none), and answered while draining. */
    static final Set<String> PROBES = Set.of(HealthResource.PATH, HealthResource.PATH + "/live",
            HealthResource.PATH + "/ready", HealthResource.PATH + "/started");
    static final Set<String> METRICS = Set.of("/metrics", "/q/metrics");

    private final DrainCoordinator drain;
    private final ApiKeys keys;
    private final CorsPolicy cors;
    private final boolean metricsRequireKey;

    public HttpGate(DrainCoordinator drain, ContinuumConfig config) {
        this.drain = drain;
        this.keys = ApiKeys.of(config.apiKey(), config.apiKeyFile());
        this.cors = new CorsPolicy(config.corsOrigins());
        this.metricsRequireKey = config.metricsRequireKey();
    }

    void register(@Observes Filters filters) {
        filters.register(this::handle, 1000);
    }

    private void handle(RoutingContext rc) {
        String origin = rc.request().getHeader("Origin");
        if (origin != null && rc.request().method() == HttpMethod.OPTIONS
                && rc.request().getHeader("Access-Control-Request-Method") != null) {
            preflight(rc, origin);
            return;
        }
        if (origin != null && cors.allows(origin)) {
            rc.response().putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin")
                    .putHeader("Access-Control-Expose-Headers", "Retry-After");
        }
        String path = rc.normalizedPath();
        boolean probe = PROBES.contains(path);
        boolean open = probe || (METRICS.contains(path) && !metricsRequireKey);
        if (keys.enabled() && !open && !keys.accepts(rc.request().getHeader("Authorization"))) {
            rc.response().putHeader("WWW-Authenticate", "Bearer");
            error(rc, 401, "invalid_request_error", "invalid_api_key", "Incorrect or missing API key: send"
                    + " 'Authorization: Bearer <key>' with a key the server was started with");
            return;
        }
        if (probe || METRICS.contains(path)) {
            rc.next();
            return;
        }
        if (!drain.admit()) {
            rc.response().putHeader("Retry-After", "1");
            error(rc, 503, "service_unavailable", "server_shutting_down",
                    "The server is shutting down and takes no new requests; retry on another replica");
            return;
        }
        rc.addEndHandler(done -> drain.finished());
        rc.next();
    }

    /** A browser asks whether {@code origin} may call: yes with the CORS headers, or 403 without them. */
    private void preflight(RoutingContext rc, String origin) {
        if (!cors.allows(origin)) {
            rc.response().setStatusCode(403).end();
            return;
        }
        String headers = rc.request().getHeader("Access-Control-Request-Headers");
        rc.response().setStatusCode(204)
                .putHeader("Access-Control-Allow-Origin", origin)
                .putHeader("Vary", "Origin")
                .putHeader("Access-Control-Allow-Methods", CorsPolicy.METHODS)
                .putHeader("Access-Control-Allow-Headers", headers != null ? headers : CorsPolicy.DEFAULT_HEADERS)
                .putHeader("Access-Control-Max-Age", CorsPolicy.MAX_AGE_SECONDS)
                .end();
    }

    /** OpenAI's error shape, written here because this filter runs before the API's own error mapping. */
    private static void error(RoutingContext rc, int status, String type, String code, String message) {
        String body = "{\"error\":{\"message\":" + io.vertx.core.json.Json.encode(message) + ",\"type\":\"" + type
                + "\",\"param\":null,\"code\":\"" + code + "\"}}";
        rc.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
    }
}
