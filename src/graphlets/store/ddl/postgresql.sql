-- MLMD schema version 10 for PostgreSQL, as ml-metadata 1.17.1 creates it, except that
-- *property.int_value is bigint (MLMD uses integer, which overflows on epoch milliseconds;
-- ml-metadata reads the column as int64 either way).
CREATE TABLE artifact (
    id integer NOT NULL,
    type_id integer NOT NULL,
    uri text,
    state integer,
    name character varying(255),
    external_id character varying(255),
    create_time_since_epoch bigint DEFAULT 0 NOT NULL,
    last_update_time_since_epoch bigint DEFAULT 0 NOT NULL
);
CREATE SEQUENCE artifact_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE artifact_id_seq OWNED BY artifact.id;
CREATE TABLE artifactproperty (
    artifact_id integer NOT NULL,
    name character varying(255) NOT NULL,
    is_custom_property boolean NOT NULL,
    int_value bigint,
    double_value double precision,
    string_value text,
    byte_value bytea,
    proto_value bytea,
    bool_value boolean
);
CREATE TABLE association (
    id integer NOT NULL,
    context_id integer NOT NULL,
    execution_id integer NOT NULL
);
CREATE SEQUENCE association_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE association_id_seq OWNED BY association.id;
CREATE TABLE attribution (
    id integer NOT NULL,
    context_id integer NOT NULL,
    artifact_id integer NOT NULL
);
CREATE SEQUENCE attribution_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE attribution_id_seq OWNED BY attribution.id;
CREATE TABLE context (
    id integer NOT NULL,
    type_id integer NOT NULL,
    name character varying(255) NOT NULL,
    external_id character varying(255),
    create_time_since_epoch bigint DEFAULT 0 NOT NULL,
    last_update_time_since_epoch bigint DEFAULT 0 NOT NULL
);
CREATE SEQUENCE context_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE context_id_seq OWNED BY context.id;
CREATE TABLE contextproperty (
    context_id integer NOT NULL,
    name character varying(255) NOT NULL,
    is_custom_property boolean NOT NULL,
    int_value bigint,
    double_value double precision,
    string_value text,
    byte_value bytea,
    proto_value bytea,
    bool_value boolean
);
CREATE TABLE event (
    id integer NOT NULL,
    artifact_id integer NOT NULL,
    execution_id integer NOT NULL,
    type integer NOT NULL,
    milliseconds_since_epoch bigint
);
CREATE SEQUENCE event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE event_id_seq OWNED BY event.id;
CREATE TABLE eventpath (
    event_id integer NOT NULL,
    is_index_step boolean NOT NULL,
    step_index integer,
    step_key text
);
CREATE TABLE execution (
    id integer NOT NULL,
    type_id integer NOT NULL,
    last_known_state integer,
    name character varying(255),
    external_id character varying(255),
    create_time_since_epoch bigint DEFAULT 0 NOT NULL,
    last_update_time_since_epoch bigint DEFAULT 0 NOT NULL
);
CREATE SEQUENCE execution_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE execution_id_seq OWNED BY execution.id;
CREATE TABLE executionproperty (
    execution_id integer NOT NULL,
    name character varying(255) NOT NULL,
    is_custom_property boolean NOT NULL,
    int_value bigint,
    double_value double precision,
    string_value text,
    byte_value bytea,
    proto_value bytea,
    bool_value boolean
);
CREATE TABLE mlmdenv (
    schema_version integer NOT NULL
);
CREATE TABLE parentcontext (
    context_id integer NOT NULL,
    parent_context_id integer NOT NULL
);
CREATE TABLE parenttype (
    type_id integer NOT NULL,
    parent_type_id integer NOT NULL
);
CREATE TABLE type (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    version character varying(255),
    type_kind smallint NOT NULL,
    description text,
    input_type text,
    output_type text,
    external_id character varying(255)
);
CREATE SEQUENCE type_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE type_id_seq OWNED BY type.id;
CREATE TABLE typeproperty (
    type_id integer NOT NULL,
    name character varying(255) NOT NULL,
    data_type integer
);
ALTER TABLE ONLY artifact ALTER COLUMN id SET DEFAULT nextval('artifact_id_seq'::regclass);
ALTER TABLE ONLY association ALTER COLUMN id SET DEFAULT nextval('association_id_seq'::regclass);
ALTER TABLE ONLY attribution ALTER COLUMN id SET DEFAULT nextval('attribution_id_seq'::regclass);
ALTER TABLE ONLY context ALTER COLUMN id SET DEFAULT nextval('context_id_seq'::regclass);
ALTER TABLE ONLY event ALTER COLUMN id SET DEFAULT nextval('event_id_seq'::regclass);
ALTER TABLE ONLY execution ALTER COLUMN id SET DEFAULT nextval('execution_id_seq'::regclass);
ALTER TABLE ONLY type ALTER COLUMN id SET DEFAULT nextval('type_id_seq'::regclass);
ALTER TABLE ONLY artifact
    ADD CONSTRAINT artifact_external_id_key UNIQUE (external_id);
ALTER TABLE ONLY artifact
    ADD CONSTRAINT artifact_pkey PRIMARY KEY (id);
ALTER TABLE ONLY artifactproperty
    ADD CONSTRAINT artifactproperty_pkey PRIMARY KEY (artifact_id, name, is_custom_property);
ALTER TABLE ONLY association
    ADD CONSTRAINT association_context_id_execution_id_key UNIQUE (context_id, execution_id);
ALTER TABLE ONLY association
    ADD CONSTRAINT association_pkey PRIMARY KEY (id);
ALTER TABLE ONLY attribution
    ADD CONSTRAINT attribution_context_id_artifact_id_key UNIQUE (context_id, artifact_id);
ALTER TABLE ONLY attribution
    ADD CONSTRAINT attribution_pkey PRIMARY KEY (id);
ALTER TABLE ONLY context
    ADD CONSTRAINT context_external_id_key UNIQUE (external_id);
ALTER TABLE ONLY context
    ADD CONSTRAINT context_pkey PRIMARY KEY (id);
ALTER TABLE ONLY context
    ADD CONSTRAINT context_type_id_name_key UNIQUE (type_id, name);
ALTER TABLE ONLY contextproperty
    ADD CONSTRAINT contextproperty_pkey PRIMARY KEY (context_id, name, is_custom_property);
ALTER TABLE ONLY event
    ADD CONSTRAINT event_pkey PRIMARY KEY (id);
ALTER TABLE ONLY execution
    ADD CONSTRAINT execution_external_id_key UNIQUE (external_id);
ALTER TABLE ONLY execution
    ADD CONSTRAINT execution_pkey PRIMARY KEY (id);
ALTER TABLE ONLY executionproperty
    ADD CONSTRAINT executionproperty_pkey PRIMARY KEY (execution_id, name, is_custom_property);
ALTER TABLE ONLY mlmdenv
    ADD CONSTRAINT mlmdenv_pkey PRIMARY KEY (schema_version);
ALTER TABLE ONLY parentcontext
    ADD CONSTRAINT parentcontext_pkey PRIMARY KEY (context_id, parent_context_id);
ALTER TABLE ONLY parenttype
    ADD CONSTRAINT parenttype_pkey PRIMARY KEY (type_id, parent_type_id);
ALTER TABLE ONLY type
    ADD CONSTRAINT type_external_id_key UNIQUE (external_id);
ALTER TABLE ONLY type
    ADD CONSTRAINT type_pkey PRIMARY KEY (id);
ALTER TABLE ONLY typeproperty
    ADD CONSTRAINT typeproperty_pkey PRIMARY KEY (type_id, name);
ALTER TABLE ONLY artifact
    ADD CONSTRAINT uniqueartifacttypename UNIQUE (type_id, name);
ALTER TABLE ONLY event
    ADD CONSTRAINT uniqueevent UNIQUE (artifact_id, execution_id, type);
ALTER TABLE ONLY execution
    ADD CONSTRAINT uniqueexecutiontypename UNIQUE (type_id, name);
CREATE INDEX idx_artifact_create_time_since_epoch ON artifact USING btree (create_time_since_epoch);
CREATE INDEX idx_artifact_external_id ON artifact USING btree (external_id);
CREATE INDEX idx_artifact_last_update_time_since_epoch ON artifact USING btree (last_update_time_since_epoch);
CREATE INDEX idx_artifact_property_double ON artifactproperty USING btree (name, is_custom_property, double_value);
CREATE INDEX idx_artifact_property_int ON artifactproperty USING btree (name, is_custom_property, int_value);
CREATE INDEX idx_artifact_property_string ON artifactproperty USING btree (name, is_custom_property, string_value);
CREATE INDEX idx_artifact_uri ON artifact USING btree (uri);
CREATE INDEX idx_context_create_time_since_epoch ON context USING btree (create_time_since_epoch);
CREATE INDEX idx_context_external_id ON context USING btree (external_id);
CREATE INDEX idx_context_last_update_time_since_epoch ON context USING btree (last_update_time_since_epoch);
CREATE INDEX idx_context_property_double ON contextproperty USING btree (name, is_custom_property, double_value);
CREATE INDEX idx_context_property_int ON contextproperty USING btree (name, is_custom_property, int_value);
CREATE INDEX idx_context_property_string ON contextproperty USING btree (name, is_custom_property, string_value);
CREATE INDEX idx_event_execution_id ON event USING btree (execution_id);
CREATE INDEX idx_eventpath_event_id ON eventpath USING btree (event_id);
CREATE INDEX idx_execution_create_time_since_epoch ON execution USING btree (create_time_since_epoch);
CREATE INDEX idx_execution_external_id ON execution USING btree (external_id);
CREATE INDEX idx_execution_last_update_time_since_epoch ON execution USING btree (last_update_time_since_epoch);
CREATE INDEX idx_execution_property_double ON executionproperty USING btree (name, is_custom_property, double_value);
CREATE INDEX idx_execution_property_int ON executionproperty USING btree (name, is_custom_property, int_value);
CREATE INDEX idx_execution_property_string ON executionproperty USING btree (name, is_custom_property, string_value);
CREATE INDEX idx_parentcontext_parent_context_id ON parentcontext USING btree (parent_context_id);
CREATE INDEX idx_type_external_id ON type USING btree (external_id);
CREATE INDEX idx_type_name ON type USING btree (name);
