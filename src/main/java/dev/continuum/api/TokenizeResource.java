package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.server.ModelHost;
import dev.continuum.tokenizer.Tokenizer;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
/**
 * {@code POST /tokenize} and {@code POST /detokenize} with the served model's tokenizer. Blocking: a prompt of
 * megabytes takes seconds to tokenize, on a worker thread, never the event loop. The body limit is
 * {@code continuum.max-request-bytes}, as on every route ({@link RequestLimits}).
 */
@Path("/")
@Blocking
public class TokenizeResource {
    private static final Set<String> TOKENIZE_FIELDS = new TreeSet<>(List.of("model", "prompt", "add_special_tokens"));
    private static final Set<String> DETOKENIZE_FIELDS = new TreeSet<>(List.of("model", "tokens"));

    private final ModelHost host;
    private final ObjectMapper json;

    public TokenizeResource(ModelHost host, ObjectMapper json) {
        this.host = host;
        this.json = json;
    }

    @POST
    @Path("tokenize")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Tokenize text")
    @RequestBody(content = @Content(schema = @Schema(implementation = ApiDocs.TokenizeRequest.class)))
    public ApiDocs.TokenizeResponse tokenize(@HeaderParam("Content-Type") String contentType, byte[] body) {
        JsonFields f = fields(contentType, body, TOKENIZE_FIELDS);
        Tokenizer tok = host.model().tokenizer();
        String prompt = f.string("prompt", null);
        if (prompt == null) {
            throw ApiException.invalid("prompt", "'prompt' is required");
        }
        boolean special = f.bool("add_special_tokens", true);
        int[] ids = tok.encode(prompt, true);
        if (special && tok.addBos() && tok.bosId() >= 0) {
            int[] withBos = new int[ids.length + 1];
            withBos[0] = tok.bosId();
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            ids = withBos;
        }
        return new ApiDocs.TokenizeResponse(ids.length, host.engine().config().maxModelLen(), ids);
    }

    @POST
    @Path("detokenize")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Turn token ids back into text")
    @RequestBody(content = @Content(schema = @Schema(implementation = ApiDocs.DetokenizeRequest.class)))
    public ApiDocs.DetokenizeResponse detokenize(@HeaderParam("Content-Type") String contentType, byte[] body) {
        JsonFields f = fields(contentType, body, DETOKENIZE_FIELDS);
        Tokenizer tok = host.model().tokenizer();
        JsonNode tokens = f.raw("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw ApiException.invalid("tokens", "'tokens' must be an array of token ids");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= tok.vocabSize()) {
                throw ApiException.invalid("tokens", "token ids must be integers in [0, " + tok.vocabSize() + ")");
            }
            ids[i] = t.asInt();
        }
        return new ApiDocs.DetokenizeResponse(tok.decode(ids));
    }

    /**
     * The body read as the generation routes read theirs: JSON text strictly ({@link JsonBody}: the media type,
     * UTF-8, one value, no duplicate keys) and only the fields this route honours, any other refused by name.
     */
    private JsonFields fields(String contentType, byte[] body, Set<String> honoured) {
        if (host.state() != ModelHost.State.READY) {
            throw ApiException.notReady(host);
        }
        JsonBody.checkContentType(contentType);
        JsonFields f = new JsonFields(JsonBody.parse(body, json));
        for (String name : f.names()) {
            if (!honoured.contains(name)) {
                throw ApiException.invalid(name, "unknown field '" + name + "'; this route takes " + honoured);
            }
        }
        String model = f.string("model", null);
        if (model != null && !model.equals(host.servedName())) {
            throw ApiException.modelNotFound(model, host.servedName());
        }
        return f;
    }
}
