package dev.continuum.api;

import dev.continuum.server.ModelHost;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.util.List;

/** {@code GET /v1/models} and {@code GET /v1/models/{id}}: the served model with its context length and limits. */
@Path("/v1/models")
public class ModelsResource {
    private final ModelHost host;
    private final long started = System.currentTimeMillis() / 1000;

    public ModelsResource(ModelHost host) {
        this.host = host;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "listModels", summary = "List the served model")
    public ApiDocs.ModelList models() {
        return new ApiDocs.ModelList("list", List.of(card()));
    }

    /** The SDKs' {@code models.retrieve}: the card of the served id, 404 in OpenAI's shape for any other. */
    @GET
    @Path("{id: .+}") // served names may contain slashes (org/model)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "retrieveModel", summary = "The served model's card; 404 for any other id")
    public ApiDocs.ModelCard model(@PathParam("id") String id) {
        ApiDocs.ModelCard card = card();
        if (!card.id().equals(id)) {
            throw ApiException.modelNotFound(id, card.id());
        }
        return card;
    }

    private ApiDocs.ModelCard card() {
        if (host.state() != ModelHost.State.READY) {
            throw ApiException.notReady(host);
        }
        var m = host.model();
        var engine = host.engine().config();
        return new ApiDocs.ModelCard(host.servedName(), "model", started, "continuum", engine.maxModelLen(),
                m.config().contextLength(), engine.maxNumSeqs(), host.config().maxN(), m.config().vocabSize(),
                m.description(), host.backend().name(), host.backend().device());
    }
}
