package dev.continuum.api;

import dev.continuum.server.ModelHost;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.util.List;

/** {@code GET /v1/models}: the served model with its context length and limits. */
@Path("/v1/models")
public class ModelsResource {
    private final ModelHost host;
    private final long started = System.currentTimeMillis() / 1000;

    public ModelsResource(ModelHost host) {
        this.host = host;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "List the served model")
    public ApiDocs.ModelList models() {
        if (host.state() != ModelHost.State.READY) {
            throw ApiException.notReady(host);
        }
        var m = host.model();
        var engine = host.engine().config();
        return new ApiDocs.ModelList("list", List.of(new ApiDocs.ModelCard(host.servedName(), "model", started,
                "continuum", engine.maxModelLen(), m.config().contextLength(), engine.maxNumSeqs(),
                host.config().maxN(), m.config().vocabSize(), m.description(),
                host.backend().name(), host.backend().device())));
    }
}
