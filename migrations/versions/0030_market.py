"""market

Revision ID: 0030
Revises: 0010
Create Date: 2026-11-26 16:56:14.305814

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0010'
branch_labels = None
depends_on = None

# Full-text search over posts (see timebank/market/search.py), made by hand because models cannot
# describe it. Everything is named "search_…" so that model/migration comparisons skip it.
SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE search_posts USING fts5(title, description, content='posts', content_rowid='id',
       tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER search_posts_insert AFTER INSERT ON posts BEGIN
         INSERT INTO search_posts (rowid, title, description) VALUES (new.id, new.title, new.description);
       END""",
    """CREATE TRIGGER search_posts_delete AFTER DELETE ON posts BEGIN
         INSERT INTO search_posts (search_posts, rowid, title, description)
         VALUES ('delete', old.id, old.title, old.description);
       END""",
    """CREATE TRIGGER search_posts_update AFTER UPDATE OF title, description ON posts BEGIN
         INSERT INTO search_posts (search_posts, rowid, title, description)
         VALUES ('delete', old.id, old.title, old.description);
         INSERT INTO search_posts (rowid, title, description) VALUES (new.id, new.title, new.description);
       END""",
]
SQLITE_SEARCH_DROP = ["DROP TRIGGER search_posts_update", "DROP TRIGGER search_posts_delete",
                      "DROP TRIGGER search_posts_insert", "DROP TABLE search_posts"]

# unaccent is not IMMUTABLE (its dictionary could change), so a generated column needs the
# wrapper; the fixed search_path keeps it working whatever the session's search_path is. The
# vector is stored, so searching never recomputes it row by row. The extension stays on
# downgrade: other code may use it.
POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
       SET search_path FROM CURRENT AS $$ SELECT unaccent('unaccent', $1) $$""",
    """CREATE FUNCTION search_post_vector(title text, description text) RETURNS tsvector
       LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT
       AS $$ SELECT to_tsvector('simple'::regconfig, search_fold(coalesce(title, '') || ' ' || coalesce(description, ''))) $$""",
    """ALTER TABLE posts ADD COLUMN search_vector tsvector
       GENERATED ALWAYS AS (search_post_vector(title, description)) STORED""",
    "CREATE INDEX search_posts ON posts USING gin (search_vector)",
]
POSTGRES_SEARCH_DROP = ["ALTER TABLE posts DROP COLUMN search_vector", "DROP FUNCTION search_post_vector(text, text)",
                        "DROP FUNCTION search_fold(text)"]


def run(statements):
    for statement in statements:
        op.execute(statement)


def on_sqlite():
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('is_gift', sa.Boolean(), nullable=False),
    sa.Column('available_days', sa.JSON(), nullable=False),
    sa.Column('available_parts', sa.JSON(), nullable=False),
    sa.Column('available_note', sa.String(length=200), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_reason', sa.Text(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('offer', 'request')", name=op.f('ck_posts_kind')),
    sa.CheckConstraint("status IN ('active', 'paused', 'closed', 'expired')", name=op.f('ck_posts_status')),
    sa.CheckConstraint('NOT is_gift OR minutes = 0', name=op.f('ck_posts_gift_is_free')),
    sa.CheckConstraint('minutes IS NULL OR minutes >= 0', name=op.f('ck_posts_minutes')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_posts_area_id_areas')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_posts_category_id_categories')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['members.id'], name=op.f('fk_posts_closed_by_id_members')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_posts_community_id_communities')),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_posts_image_id_images')),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_posts_owner_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_posts_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_posts_listing', ['community_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_owner_id'), ['owner_id'], unique=False)

    # On SQLite a plain ADD COLUMN with the foreign key inline: a batch "move and copy" of
    # categories would fail there, because member_skills already points at its rows.
    if on_sqlite():
        op.execute('ALTER TABLE categories ADD COLUMN merged_into_id INTEGER '
                   'CONSTRAINT fk_categories_merged_into_id_categories REFERENCES categories (id)')
    else:
        op.add_column('categories', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_categories_merged_into_id_categories'), 'categories', 'categories',
                              ['merged_into_id'], ['id'])

    # Plain ADD COLUMNs: a batch "move and copy" of members would cascade-delete member_skills.
    op.add_column('communities', sa.Column('post_expiry_weeks', sa.Integer(), server_default='8', nullable=False))
    op.add_column('members', sa.Column('market_digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('members', sa.Column('market_digest_sent_until', sa.DateTime(timezone=True), nullable=True))
    run(SQLITE_SEARCH if on_sqlite() else POSTGRES_SEARCH)


def downgrade():
    run(SQLITE_SEARCH_DROP if on_sqlite() else POSTGRES_SEARCH_DROP)
    op.drop_column('members', 'market_digest_sent_until')
    op.drop_column('members', 'market_digest')
    op.drop_column('communities', 'post_expiry_weeks')

    op.drop_column('categories', 'merged_into_id')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posts_owner_id'))
        batch_op.drop_index('ix_posts_listing')
        batch_op.drop_index(batch_op.f('ix_posts_expires_at'))
        batch_op.drop_index(batch_op.f('ix_posts_category_id'))

    op.drop_table('posts')
