/**
 * User records and the smaller user shapes GitLab embeds in other records.
 *
 * @module
 */

import type { FakeUser, JsonRecord } from "./data.ts";
import type { Random } from "./_random.ts";

const FIRST = ["Ada", "Brian", "Chloe", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas"];
const LAST = ["Lovelace", "Kernighan", "Dupont", "Ivanov", "Schmidt", "Haddad", "Hopper", "Sato"];

/** Builds the administrator's view of user `id` (1 is `root`). */
export function makeUser(id: number, rng: Random, web: string, createdMs: number): FakeUser {
  const root = id === 1;
  const first = FIRST[(id - 1) % FIRST.length];
  const last = LAST[Math.floor((id - 1) / FIRST.length) % LAST.length];
  const username = root ? "root" : `${first.toLowerCase()}.${last.toLowerCase()}${id}`;
  const name = root ? "Administrator" : `${first} ${last}`;
  const created = new Date(createdMs).toISOString();
  const signIn = new Date(createdMs + rng.int(1, 300) * 86_400_000).toISOString();
  return {
    id,
    username,
    email: `${username}@example.com`,
    name,
    state: id % 11 === 0 ? "blocked" : "active",
    locked: false,
    avatar_url: `https://www.gravatar.com/avatar/${rng.hex(32)}?s=80&d=identicon`,
    web_url: `${web}/${username}`,
    created_at: created,
    is_admin: root,
    bio: "",
    location: null,
    linkedin: "",
    twitter: "",
    discord: "",
    github: "",
    website_url: "",
    organization: "",
    job_title: "",
    last_sign_in_at: signIn,
    confirmed_at: created,
    theme_id: 1,
    last_activity_on: signIn.slice(0, 10),
    color_scheme_id: 1,
    projects_limit: 100000,
    current_sign_in_at: signIn,
    note: null,
    identities: id % 3 === 0 ? [{ provider: "github", extern_uid: String(1000 + id) }] : [],
    can_create_group: true,
    can_create_project: true,
    two_factor_enabled: id % 2 === 0,
    external: false,
    private_profile: false,
    current_sign_in_ip: `10.0.0.${id % 250}`,
    last_sign_in_ip: `10.0.1.${id % 250}`,
    namespace_id: id,
    created_by: null,
    email_reset_offered_at: null,
  };
}

/** The non-administrator shape (`users_basic.json`), also used for authors and assignees. */
export function basicUser(user: JsonRecord): JsonRecord {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: user.state,
    locked: user.locked,
    avatar_url: user.avatar_url,
    web_url: user.web_url,
  };
}

/** The public shape embedded in jobs (`jobs.json` `user`). */
export function publicUser(user: JsonRecord): JsonRecord {
  return {
    ...basicUser(user),
    created_at: user.created_at,
    bio: user.bio,
    location: user.location,
    public_email: "",
    skype: "",
    linkedin: user.linkedin,
    twitter: user.twitter,
    website_url: user.website_url,
    organization: user.organization,
  };
}

/** A member of a project or group (`members.json`). */
export function memberOf(
  user: JsonRecord,
  accessLevel: number,
  createdBy: JsonRecord,
  createdAt: string,
): JsonRecord {
  return {
    ...basicUser(user),
    created_at: createdAt,
    created_by: basicUser(createdBy),
    expires_at: null,
    access_level: accessLevel,
    group_saml_identity: null,
    membership_state: "active",
  };
}

/** A pending access request. */
export function accessRequestOf(user: JsonRecord, requestedAt: string): JsonRecord {
  return { ...basicUser(user), created_at: requestedAt, requested_at: requestedAt };
}
