package cutover.mongostandin;

import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/** The library's memory backend plus pipeline-style updates ({@link PipelineUpdates}). */
final class StandinMemoryBackend extends MemoryBackend {

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        Document response = PipelineUpdates.handle(this, oplog, databaseName, command, query);
        return response != null ? response : super.handleCommand(channel, databaseName, command, query);
    }
}
