/**
 * Instance-level records: application settings, admin resources, metadata. Shapes follow the
 * reference samples with this server's own URLs.
 *
 * @module
 */

import type { FakeInstanceData, JsonRecord } from "./data.ts";
import type { Random } from "./_random.ts";

/** Builds the instance records; `root` is user 1 in its basic shape. */
export function makeInstance(
  rng: Random,
  web: string,
  root: JsonRecord,
  nowMs: number,
): FakeInstanceData {
  const day = 86_400_000;
  const at = (daysAgo: number) => new Date(nowMs - daysAgo * day).toISOString();
  const bulkImports = [1, 2].map((id) => ({
    id,
    status: id === 1 ? "finished" : "started",
    source_type: "gitlab",
    source_url: "https://gitlab.example.com",
    created_at: at(40 - id),
    updated_at: at(39 - id),
    has_failures: id === 2,
  }));
  return {
    appearance: {
      title: "Fake GitLab",
      description: "A fake GitLab for gitlab-pg tests",
      pwa_name: "GitLab",
      pwa_short_name: "GitLab",
      pwa_description: "",
      pwa_icon: null,
      logo: "/uploads/-/system/appearance/logo/1/logo.png",
      header_logo: "/uploads/-/system/appearance/header_logo/1/header.png",
      favicon: "/uploads/-/system/appearance/favicon/1/favicon.png",
      member_guidelines: "",
      new_project_guidelines: "Please read the FAQs for help.",
      profile_image_guidelines: "",
      header_message: "",
      footer_message: "",
      message_background_color: "#e75e40",
      message_font_color: "#ffffff",
      email_header_and_footer_enabled: false,
    },
    applications: [1, 2].map((id) => ({
      id,
      application_id: rng.hex(64),
      application_name: `Application ${id}`,
      callback_url: `http://redirect.example.com/${id}`,
      confidential: id === 1,
    })),
    batchedBackgroundMigrations: [1234, 1235].map((id, i) => ({
      id,
      job_class_name: i === 0
        ? "CopyColumnUsingBackgroundMigrationJob"
        : "BackfillProjectNamespaces",
      table_name: i === 0 ? "events" : "projects",
      column_name: "id",
      status: i === 0 ? "active" : "finished",
      progress: i === 0 ? 50.0 : 100.0,
      created_at: at(10 + i),
      estimated_time_remaining: i === 0 ? "1 day" : null,
    })),
    broadcastMessages: [1, 2].map((id) => ({
      message: `Broadcast message ${id}`,
      starts_at: at(5 * id),
      ends_at: at(5 * id - 2),
      color: "#E75E40",
      font: "#FFFFFF",
      id,
      active: false,
      target_access_levels: [10, 30],
      target_path: "*/welcome",
      broadcast_type: id === 1 ? "banner" : "notification",
      dismissable: id === 2,
      theme: "indigo",
    })),
    bulkImports,
    bulkImportEntities: [1, 2, 3].map((id) => ({
      id,
      bulk_import_id: id === 3 ? 2 : 1,
      status: id === 3 ? "failed" : "finished",
      entity_type: id === 2 ? "project" : "group",
      source_full_path: `source_group_${id}`,
      destination_full_path: `destination/${id}`,
      destination_name: `destination_${id}`,
      destination_slug: `destination_${id}`,
      destination_namespace: "destination",
      parent_id: null,
      namespace_id: id === 2 ? null : id,
      project_id: id === 2 ? id : null,
      created_at: at(38),
      updated_at: at(37),
      failures: id === 3
        ? [{
          relation: "group",
          step: "extractor",
          exception_class: "Exception",
          exception_message: "Something went wrong",
          correlation_id_value: rng.hex(32),
          created_at: at(37),
          pipeline_class: "BulkImports::Groups::Pipelines::GroupPipeline",
          pipeline_step: "extractor",
        }]
        : [],
      migrate_projects: true,
      has_failures: id === 3,
    })),
    ciVariables: [1, 2].map((n) => ({
      key: `TEST_VARIABLE_${n}`,
      description: null,
      variable_type: "env_var",
      value: `TEST_${n}`,
      protected: false,
      masked: n === 2,
      raw: false,
    })),
    clusters: [9, 10].map((id, i) => ({
      id,
      name: `cluster-${i + 1}`,
      created_at: at(100 + i),
      managed: true,
      enabled: true,
      domain: null,
      provider_type: "user",
      platform_type: "kubernetes",
      environment_scope: i === 0 ? "*" : "staging",
      cluster_type: "instance_type",
      user: root,
      platform_kubernetes: {
        api_url: "https://kubernetes.example.com",
        namespace: null,
        authorization_type: "rbac",
        ca_cert: "-----BEGIN CERTIFICATE-----MIIFake...-----END CERTIFICATE-----",
      },
      provider_gcp: null,
      management_project: null,
    })),
    metadata: {
      version: "18.1.1-ee",
      revision: "ceb07b24cb0",
      kas: {
        enabled: true,
        externalUrl: web.replace(/^http/, "grpc") + "/-/kubernetes-agent/",
        externalK8sProxyUrl: `${web}/-/kubernetes-agent/k8s-proxy/`,
        version: "18.1.1",
      },
      enterprise: true,
    },
    version: { version: "18.1.1-ee", revision: "ceb07b24cb0" },
    planLimits: {
      ci_instance_level_variables: 25,
      ci_pipeline_size: 0,
      ci_active_jobs: 0,
      ci_project_subscriptions: 2,
      ci_pipeline_schedules: 10,
      ci_needs_size_limit: 50,
      ci_registered_group_runners: 1000,
      ci_registered_project_runners: 1000,
      dotenv_size: 5120,
      dotenv_variables: 20,
      conan_max_file_size: 3221225472,
      enforcement_limit: 10000,
      generic_packages_max_file_size: 5368709120,
      helm_max_file_size: 5242880,
      notification_limit: 10000,
      maven_max_file_size: 3221225472,
      npm_max_file_size: 524288000,
      nuget_max_file_size: 524288000,
      pypi_max_file_size: 3221225472,
      terraform_module_max_file_size: 1073741824,
      storage_size_limit: 15000,
    },
  };
}
