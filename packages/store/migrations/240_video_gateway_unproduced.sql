-- Owner: video-gateway. The relay's rounds and its backlog metrics read the alarms Kafka has not yet
-- acknowledged, oldest first: a partial index holds only those (normally none).
create index video_alarms_unproduced_idx on video_alarms (received_at) where produced_at is null;
