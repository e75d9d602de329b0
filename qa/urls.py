from django.urls import path

from qa import views

app_name = "qa"

urlpatterns = [
    path("questions/", views.question_list, name="question_list"),
    path("questions/similar", views.similar_json, name="similar"),
    path("questions/city/<str:city_code>/", views.question_list, name="question_list_city"),
    path(
        "questions/category/<slug:category_slug>/",
        views.question_list,
        name="question_list_category",
    ),
    path("questions/<int:pk>/", views.question_detail, name="question"),
    path("questions/<int:pk>/answer/", views.answer_submit, name="answer_submit"),
    path("questions/publish/<int:consult_id>/", views.publish_consult, name="publish_consult"),
    path("answers/mine/", views.my_answers, name="my_answers"),
    path("answers/<int:answer_id>/edit/", views.answer_edit, name="answer_edit"),
    path("answers/<int:answer_id>/withdraw/", views.answer_withdraw, name="answer_withdraw"),
    path("answers/<int:answer_id>/like/", views.answer_like, name="answer_like"),
    path("answers/<int:answer_id>/helpful/", views.answer_helpful, name="answer_helpful"),
    path("report/", views.report_view, name="report"),
    path("lawyers/", views.lawyer_list, name="lawyer_list"),
    path("lawyers/<int:user_id>/", views.lawyer_detail, name="lawyer"),
    path("moderation/", views.moderation, name="moderation"),
    path(
        "moderation/answers/<int:answer_id>/review/",
        views.moderation_review,
        name="moderation_review",
    ),
    path(
        "moderation/reports/<int:report_id>/decide/",
        views.moderation_decide,
        name="moderation_decide",
    ),
    path(
        "moderation/messages/<int:message_id>/",
        views.moderation_message,
        name="moderation_message",
    ),
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    path("sitemaps/pages.xml", views.sitemap_pages, name="sitemap_pages"),
    path("sitemaps/questions-<int:page>.xml", views.sitemap_questions, name="sitemap_questions"),
    path("robots.txt", views.robots_txt, name="robots"),
]
