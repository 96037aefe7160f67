-- A schema-2 database written by sdsessions at commit df5a3c5 (schema 2) through
-- Store.upsert_stats / update_metadata / set_metadata_many / set_auto_metadata:
-- the same folder name in two roots (metadata shared by name), an orphan metadata row.
-- The FTS index (session_search) is left out: tests create it and rebuild it from search_docs.
PRAGMA application_id = 1396986707;
PRAGMA user_version = 2;
CREATE TABLE search_docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
INSERT INTO "search_docs" VALUES(1,'20251114_093010-hair_test
hair_test
a woman, neon hair
Neon-Noir keep
best of the week');
INSERT INTO "search_docs" VALUES(2,'20251114_093010-hair_test
hair_test
a woman, neon hair
Neon-Noir keep
best of the week');
INSERT INTO "search_docs" VALUES(3,'20251112_181502-Teasing
Teasing
3d cat on a mat');
INSERT INTO "search_docs" VALUES(4,'20251117_111757-donmain
donmain
a castle');
CREATE TABLE session_metadata (
	session_id VARCHAR NOT NULL, 
	session_path VARCHAR NOT NULL, 
	is_test BOOLEAN NOT NULL, 
	is_complete BOOLEAN NOT NULL, 
	is_favorite BOOLEAN NOT NULL, 
	user_rating VARCHAR, 
	user_note VARCHAR, 
	tags VARCHAR NOT NULL, 
	auto_metadata VARCHAR, 
	created_at VARCHAR NOT NULL, 
	updated_at VARCHAR NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (session_id), 
	CONSTRAINT ck_rating CHECK (user_rating IN ('like', 'dislike'))
);
INSERT INTO "session_metadata" VALUES('20251114_093010-hair_test','/data/gpu1/results/20251114_093010-hair_test',0,0,1,'like','best of the week','["Neon-Noir","keep"]','{"webui_is_complete":true}','2026-12-03T06:16:07','2026-12-03T06:16:07',2);
INSERT INTO "session_metadata" VALUES('20251112_181502-Teasing','/data/gpu1/results/20251112_181502-Teasing',1,0,0,NULL,NULL,'[]',NULL,'2026-12-03T06:16:07','2026-12-03T06:16:07',1);
INSERT INTO "session_metadata" VALUES('20251101_120000-elsewhere','',0,0,1,'dislike','from the web UI','["old"]',NULL,'2026-12-03T06:16:07','2026-12-03T06:16:07',2);
CREATE TABLE session_stats (
	id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
	session_path VARCHAR NOT NULL, 
	root VARCHAR NOT NULL, 
	display_name VARCHAR NOT NULL, 
	name_era VARCHAR NOT NULL, 
	is_dry_run BOOLEAN NOT NULL, 
	is_unavailable BOOLEAN NOT NULL, 
	unavailable_since VARCHAR, 
	fingerprint VARCHAR, 
	manifest_format VARCHAR NOT NULL, 
	manifest_file VARCHAR, 
	manifest_mtime FLOAT, 
	manifest_size INTEGER, 
	folder_mtime FLOAT, 
	sd_model VARCHAR, 
	template_version VARCHAR, 
	generation_mode VARCHAR, 
	seed_mode VARCHAR, 
	seed_base INTEGER, 
	resolved_prompt VARCHAR, 
	negative_prompt VARCHAR, 
	width INTEGER, 
	height INTEGER, 
	steps INTEGER, 
	cfg_scale FLOAT, 
	sampler_name VARCHAR, 
	scheduler VARCHAR, 
	api_params VARCHAR NOT NULL, 
	theme_name VARCHAR, 
	style VARCHAR, 
	images_expected INTEGER, 
	images_actual INTEGER NOT NULL, 
	image_files_raw INTEGER NOT NULL, 
	dry_run_payloads INTEGER NOT NULL, 
	completion_percentage FLOAT, 
	has_extra_images BOOLEAN NOT NULL, 
	status VARCHAR NOT NULL, 
	manifest_status VARCHAR, 
	is_seed_sweep BOOLEAN NOT NULL, 
	seed_list VARCHAR NOT NULL, 
	seed_min INTEGER, 
	seed_max INTEGER, 
	placeholders VARCHAR NOT NULL, 
	variations_summary VARCHAR NOT NULL, 
	total_combinations INTEGER, 
	image_files VARCHAR NOT NULL, 
	session_created_at VARCHAR, 
	manifest_generated_at VARCHAR, 
	first_image_created_at VARCHAR, 
	last_image_created_at VARCHAR, 
	duration_seconds FLOAT, 
	stats_computed_at VARCHAR NOT NULL, 
	stats_version INTEGER NOT NULL, 
	stats_error VARCHAR, 
	warnings VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_session_stats_path UNIQUE (session_path)
);
INSERT INTO "session_stats" VALUES(1,'20251114_093010-hair_test','/data/gpu1/results/20251114_093010-hair_test','/data/gpu1/results','hair_test','new',0,0,NULL,'f1','v2','manifest.json',NULL,NULL,NULL,'ponyXL',NULL,NULL,NULL,NULL,'a woman, neon hair',NULL,NULL,NULL,30,NULL,NULL,NULL,'{}',NULL,NULL,4,4,0,0,100.0,0,'completed',NULL,0,'[]',NULL,NULL,'{}','',NULL,'[]','2025-11-14T09:30:10','2025-11-14T09:30:10',NULL,NULL,NULL,'2025-11-14T09:30:10',1,NULL,'[]');
INSERT INTO "session_stats" VALUES(2,'20251114_093010-hair_test','/data/gpu2/results/20251114_093010-hair_test','/data/gpu2/results','hair_test','new',0,0,NULL,'f2','v2','manifest.json',NULL,NULL,NULL,'ponyXL',NULL,NULL,NULL,NULL,'a woman, neon hair',NULL,NULL,NULL,30,NULL,NULL,NULL,'{}',NULL,NULL,4,4,0,0,100.0,0,'completed',NULL,0,'[]',NULL,NULL,'{}','',NULL,'[]','2025-11-14T09:30:10','2025-11-14T09:30:10',NULL,NULL,NULL,'2025-11-14T09:30:10',1,NULL,'[]');
INSERT INTO "session_stats" VALUES(3,'20251112_181502-Teasing','/data/gpu1/results/20251112_181502-Teasing','/data/gpu1/results','Teasing','new',0,0,NULL,'f3','v2','manifest.json',NULL,NULL,NULL,'ponyXL',NULL,NULL,NULL,NULL,'3d cat on a mat',NULL,NULL,NULL,30,NULL,NULL,NULL,'{}',NULL,NULL,4,4,0,0,100.0,0,'completed',NULL,0,'[]',NULL,NULL,'{}','',NULL,'[]','2025-11-14T09:30:10','2025-11-14T09:30:10',NULL,NULL,NULL,'2025-11-14T09:30:10',1,NULL,'[]');
INSERT INTO "session_stats" VALUES(4,'20251117_111757-donmain','/data/gpu2/results/20251117_111757-donmain','/data/gpu2/results','donmain','new',0,0,NULL,'f4','v2','manifest.json',NULL,NULL,NULL,'ponyXL',NULL,NULL,NULL,NULL,'a castle',NULL,NULL,NULL,30,NULL,NULL,NULL,'{}',NULL,NULL,4,4,0,0,100.0,0,'completed',NULL,0,'[]',NULL,NULL,'{}','',NULL,'[]','2025-11-14T09:30:10','2025-11-14T09:30:10',NULL,NULL,NULL,'2025-11-14T09:30:10',1,NULL,'[]');
CREATE TABLE session_tags (
	session_id TEXT NOT NULL, 
	tag TEXT NOT NULL, 
	PRIMARY KEY (session_id, tag), 
	FOREIGN KEY(session_id) REFERENCES session_metadata (session_id) ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "session_tags" VALUES('20251114_093010-hair_test','neon-noir');
INSERT INTO "session_tags" VALUES('20251114_093010-hair_test','keep');
INSERT INTO "session_tags" VALUES('20251101_120000-elsewhere','old');
CREATE INDEX ix_session_stats_is_dry_run ON session_stats (is_dry_run);
CREATE INDEX ix_session_stats_width ON session_stats (width);
CREATE INDEX ix_session_stats_images_actual ON session_stats (images_actual);
CREATE INDEX idx_session_stats_list ON session_stats (is_unavailable, session_created_at, id, session_id, sd_model, sampler_name, status, steps, cfg_scale, width, height, images_actual, images_expected, completion_percentage, is_seed_sweep, is_dry_run, duration_seconds);
CREATE INDEX ix_session_stats_status ON session_stats (status);
CREATE INDEX idx_session_stats_created_at ON session_stats (session_created_at);
CREATE INDEX ix_session_stats_fingerprint ON session_stats (fingerprint);
CREATE INDEX ix_session_stats_cfg_scale ON session_stats (cfg_scale);
CREATE INDEX ix_session_stats_sampler_name ON session_stats (sampler_name);
CREATE INDEX idx_session_stats_completion ON session_stats (completion_percentage);
CREATE INDEX ix_session_stats_steps ON session_stats (steps);
CREATE INDEX ix_session_stats_images_expected ON session_stats (images_expected);
CREATE INDEX idx_session_stats_seed_sweep ON session_stats (is_seed_sweep);
CREATE INDEX ix_session_stats_session_id ON session_stats (session_id);
CREATE INDEX idx_session_stats_model ON session_stats (sd_model);
CREATE INDEX ix_session_stats_duration_seconds ON session_stats (duration_seconds);
CREATE INDEX ix_session_stats_root ON session_stats (root);
CREATE INDEX ix_session_metadata_user_rating ON session_metadata (user_rating);
CREATE INDEX ix_session_metadata_is_test ON session_metadata (is_test);
CREATE INDEX ix_session_metadata_is_favorite ON session_metadata (is_favorite);
CREATE INDEX ix_session_metadata_is_complete ON session_metadata (is_complete);
CREATE INDEX ix_session_metadata_updated_at ON session_metadata (updated_at);
CREATE INDEX idx_session_tags_tag ON session_tags (tag);
